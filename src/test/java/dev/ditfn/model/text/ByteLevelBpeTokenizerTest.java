package dev.ditfn.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * The byte-level BPE tokenizer on hand-worked examples with {@link TinyTokenizer}'s vocabulary, whose first merges
 * are GPT-2's ({@code Ġ t}=256, {@code Ġ a}=257, {@code h e}=258, {@code i n}=259, {@code r e}=260, {@code o n}=261,
 * {@code Ġt he}=262, ...), and on both file layouts.
 */
class ByteLevelBpeTokenizerTest {
    @TempDir
    Path dir;

    private final ByteLevelBpeTokenizer tok = TinyTokenizer.tokenizer();

    private List<String> tokens(String text) {
        return tok.tokenize(text);
    }

    private long id(String token) {
        Integer id = tok.tokenId(token);
        if (id == null) {
            throw new AssertionError("no token " + token);
        }
        return id;
    }

    // ---- byte table and ids ----------------------------------------------------------------------------

    @Test
    void byteTableIsGpt2s() {
        Set<Character> symbols = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            symbols.add(ByteLevelBpeTokenizer.byteSymbol(b));
        }
        assertEquals(256, symbols.size(), "a bijection");
        assertEquals('Ġ', ByteLevelBpeTokenizer.byteSymbol(' '));
        assertEquals('\u0120', ByteLevelBpeTokenizer.byteSymbol(' '));
        assertEquals('Ċ', ByteLevelBpeTokenizer.byteSymbol('\n'));
        assertEquals('č', ByteLevelBpeTokenizer.byteSymbol('\r'));
        assertEquals('ĉ', ByteLevelBpeTokenizer.byteSymbol('\t'));
        assertEquals('Ā', ByteLevelBpeTokenizer.byteSymbol(0));
        assertEquals('a', ByteLevelBpeTokenizer.byteSymbol('a'));
        assertEquals('é', ByteLevelBpeTokenizer.byteSymbol(0xE9));
        assertEquals('Ń', ByteLevelBpeTokenizer.byteSymbol(0xAD), "soft hyphen is remapped, the last one");
        // Ids 0..255 in GPT-2 (and Qwen2) order.
        assertEquals(0, id("!"));
        assertEquals(64, id("a"));
        assertEquals(198, id("Ċ"));
        assertEquals(220, id("Ġ"));
        assertEquals(256, id("Ġt"));
        assertEquals(258, id("he"));
        assertEquals(262, id("Ġthe"));
    }

    @Test
    void specialTokensFollowTheVocabulary() {
        int base = TinyTokenizer.VOCAB_SIZE - 6;
        assertEquals(base, id("<|endoftext|>"));
        assertEquals(base + 1, id("<|im_start|>"));
        assertEquals(base + 2, id("<|im_end|>"));
        assertEquals(base + 3, id("<|vision_start|>"));
        assertEquals(base + 4, id("<|vision_end|>"));
        assertEquals(base + 5, id("<|image_pad|>"));
        assertEquals(TinyTokenizer.VOCAB_SIZE, tok.vocabSize());
        assertEquals(base, tok.padTokenId());
    }

    // ---- hand-worked encodings -------------------------------------------------------------------------

    @Test
    void mergesApplyInRankOrder() {
        // t h e: pairs (t,h) rank 35, (h,e) rank 2 -> "he" first; (t,he) is no merge -> [t, he].
        assertEquals(List.of("t", "he"), tokens("the"));
        // Ġ t h e: (Ġ,t) rank 0 -> [Ġt, h, e]; (h,e) rank 2 -> [Ġt, he]; (Ġt,he) rank 6 -> [Ġthe].
        assertEquals(List.of("Ġthe"), tokens(" the"));
        assertArrayEquals(new long[] {262}, tok.encode(" the"));
        // t h e r e: (h,e) 2 -> [t, he, r, e]; (r,e) 4 -> [t, he, re]; nothing more.
        assertEquals(List.of("t", "he", "re"), tokens("there"));
        // Ġ i n: (i,n) 3 -> [Ġ, in]; (Ġ,in) 31 -> [Ġin].
        assertEquals(List.of("Ġin"), tokens(" in"));
        // Ġ i n g: (i,n) 3 -> [Ġ, in, g]; (in,g) 22 beats (Ġ,in) 31 -> [Ġ, ing]; (Ġ,ing) is no merge.
        assertEquals(List.of("Ġ", "ing"), tokens(" ing"));
        assertEquals(List.of("s", "ing"), tokens("sing"));
        // Ġ a n d: (Ġ,a) 1 -> [Ġa, n, d]; (Ġa,n) 25 -> [Ġan, d]; (Ġan,d) 34 -> [Ġand].
        assertEquals(List.of("Ġand"), tokens(" and"));
        // l l: one merge joins the first pair, the third l stays.
        assertEquals(List.of("ll", "l"), tokens("lll"));
    }

    @Test
    void spacesBecomeGAndBelongToTheFollowingWord() {
        assertEquals(List.of("Ġthe", "Ġc", "at"), tokens(" the cat"));
        // Two spaces before a word: the first stands alone (\s+(?!\S)), the second joins the word.
        assertEquals(List.of("a", "Ġ", "Ġb"), tokens("a  b"));
        // Trailing spaces stay one pre-token.
        assertEquals(List.of("a", "Ġ", "Ġ"), tokens("a  "));
        assertEquals(List.of(id("a"), id("Ġ"), id("Ġb")),
                java.util.Arrays.stream(tok.encode("a  b")).boxed().toList());
    }

    @Test
    void newlinesDigitsPunctuationAndContractions() {
        // Newline runs are one pre-token ("Ċ Ċ" is a merge); letters never absorb a newline.
        assertEquals(List.of("a", "ĊĊ", "b"), tokens("a\n\nb"));
        assertEquals(List.of("a", "Ċ", "Ġb"), tokens("a\n b"));
        assertEquals(List.of("x", ":", "Ċ"), tokens("x:\n"), "punctuation keeps trailing newlines in its pre-token");
        // Digits one by one, the space before them alone.
        assertEquals(List.of("Ġ", "2", "0", "2", "4"), tokens(" 2024"));
        // Contractions split off (case-insensitively).
        assertEquals(List.of("it", "'", "s"), tokens("it's"));
        assertEquals(List.of("I", "'", "L", "L"), tokens("I'LL"));
        assertEquals(List.of("H", "e", "ll", "o", ",", "Ġw", "or", "l", "d", "!"), tokens("Hello, world!"));
    }

    @Test
    void specialTokensAreSplitOutAndNeverMerged() {
        assertEquals(List.of("<|im_start|>", "user", "Ċ", "h", "i", "<|im_end|>"),
                tokens("<|im_start|>user\nhi<|im_end|>"));
        List<String> t = tokens("a<|endoftext|>b <|im_end|><|im_end|>");
        assertEquals(List.of("a", "<|endoftext|>", "b", "Ġ", "<|im_end|>", "<|im_end|>"), t);
        // A broken special token is ordinary text.
        assertTrue(tokens("<|im_end|").stream().noneMatch(s -> s.equals("<|im_end|>")));
        long[] ids = tok.encode("<|im_start|>x");
        assertEquals(id("<|im_start|>"), ids[0]);
        assertEquals(2, ids.length);
    }

    @Test
    void nfcNormalisesFirst() {
        // e + combining acute (NFD) encodes as the precomposed é (C3 A9 -> Ã ©).
        assertEquals(List.of("c", "a", "f", "Ã", "©"), tokens("cafe\u0301"));
        assertArrayEquals(tok.encode("caf\u00e9"), tok.encode("cafe\u0301"));
    }

    @Test
    void unicodeRoundTripsThroughDecode() {
        for (String s : List.of("生成一张祝小明生日快乐的贺卡", "naïve café — “quotes” 🐱 emoji", "Ωmega\tTab\r\nCRLF",
                "<|im_start|>user\nA red cat 🐈 on the mat.<|im_end|>\n", "", "   ", "x\u0000y")) {
            assertEquals(s, tok.decode(tok.encode(s)), s);
        }
        // Each CJK character is 3 bytes, none merged: 3 tokens each; the pre-token is one \p{L}+ run.
        assertEquals(6, tok.encode("生成").length);
        assertEquals(List.of("ç", "Ķ", "Ł", "æ", "Ī", "Ĳ"), tokens("生成"));
    }

    @Test
    void decodeReplacesBrokenUtf8AndRefusesUnknownIds() {
        long[] ids = tok.encode("é");
        assertEquals(2, ids.length);
        assertEquals("\uFFFD", tok.decode(new long[] {ids[0]}));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new long[] {TinyTokenizer.VOCAB_SIZE}));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new long[] {-1}));
    }

    @Test
    void aSymbolMissingFromTheVocabularyIsAClearError() {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        vocab.put("a", 0);
        vocab.put("b", 1);
        ByteLevelBpeTokenizer small = new ByteLevelBpeTokenizer(vocab, List.of(), Map.of(), null);
        assertArrayEquals(new long[] {0, 1}, small.encode("ab"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> small.encode("abc"));
        assertTrue(e.getMessage().contains("'c'") && e.getMessage().contains("63"), e.getMessage());
    }

    @Test
    void preTokenizerUsesUnicodeClasses() {
        // Unicode whitespace (U+3000, NBSP) is \s; letters and numbers of other scripts are \p{L} / \p{N}.
        List<String> parts = new java.util.ArrayList<>();
        Matcher m = ByteLevelBpeTokenizer.PRETOKENIZE.matcher("a\u3000b\u00a0c ٣x Ⅻ");
        while (m.find()) {
            parts.add(m.group());
        }
        assertEquals(List.of("a", "\u3000b", "\u00a0c", " ", "٣", "x", " ", "Ⅻ"), parts);
    }

    // ---- file layouts ----------------------------------------------------------------------------------

    private static final List<String> SAMPLES = List.of(
            "<|im_start|>system\nDescribe the image by detailing the color.<|im_end|>\n",
            "The quick brown fox jumps over 13 lazy dogs; it's there, isn't it?\n\n  Indented\ttab",
            "生成一张祝小明生日快乐的贺卡 🐱", "cafe\u0301 naïve", "a<|endoftext|>b");

    @Test
    void bothFileLayoutsGiveIdenticalIds() throws Exception {
        Path classic = Files.createDirectories(dir.resolve("classic"));
        assertEquals(TinyTokenizer.VOCAB_SIZE, TinyTokenizer.write(classic));
        assertTrue(Files.readString(classic.resolve("merges.txt")).startsWith("#version"));
        Path strings = Files.createDirectories(dir.resolve("strings"));
        TinyTokenizer.writeTokenizerJson(strings, false);
        Path pairs = Files.createDirectories(dir.resolve("pairs"));
        TinyTokenizer.writeTokenizerJson(pairs, true);
        ByteLevelBpeTokenizer a = ByteLevelBpeTokenizer.load(classic);
        ByteLevelBpeTokenizer b = ByteLevelBpeTokenizer.load(strings);
        ByteLevelBpeTokenizer c = ByteLevelBpeTokenizer.load(pairs);
        for (String s : SAMPLES) {
            long[] want = tok.encode(s);
            assertArrayEquals(want, a.encode(s), "vocab.json + merges.txt: " + s);
            assertArrayEquals(want, b.encode(s), "tokenizer.json, \"a b\" merges: " + s);
            assertArrayEquals(want, c.encode(s), "tokenizer.json, [a, b] merges: " + s);
        }
        assertEquals(tok.vocabSize(), a.vocabSize());
        assertEquals(tok.vocabSize(), c.vocabSize());
        assertEquals(tok.padTokenId(), a.padTokenId());
        assertEquals(tok.mergeCount(), c.mergeCount());
    }

    @Test
    void tokenizerJsonWinsWhenBothArePresent() throws Exception {
        TinyTokenizer.write(dir);
        TinyTokenizer.writeTokenizerJson(dir, true);
        // Spoil merges.txt: if it were read, the ids would change.
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n", StandardCharsets.UTF_8);
        assertArrayEquals(tok.encode(" the"), ByteLevelBpeTokenizer.load(dir).encode(" the"));
    }

    @Test
    void addedTokensJsonIsAFallbackForTheTokenizerConfig() throws Exception {
        TinyTokenizer.write(dir);
        Files.delete(dir.resolve("tokenizer_config.json"));
        Files.writeString(dir.resolve("added_tokens.json"), "{\"<|im_start|>\": " + (TinyTokenizer.VOCAB_SIZE - 2)
                + "}", StandardCharsets.UTF_8);
        ByteLevelBpeTokenizer t = ByteLevelBpeTokenizer.load(dir);
        assertEquals(TinyTokenizer.VOCAB_SIZE - 2, t.encode("<|im_start|>")[0]);
    }

    @Test
    void brokenFilesAreReportedByName() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteLevelBpeTokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("vocab.json"), e.getMessage());
        TinyTokenizer.write(dir);
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\nĠ t\nthree part merge\n", StandardCharsets.UTF_8);
        e = assertThrows(IllegalArgumentException.class, () -> ByteLevelBpeTokenizer.load(dir));
        assertTrue(e.getMessage().contains("merges.txt line 3"), e.getMessage());
    }
}
