package dev.ditfn.model.text;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * A small but valid Qwen2-style byte-level BPE tokenizer for tests and generated models.
 *
 * <p>Vocabulary: the 256 byte-level symbols (ids 0..255, in GPT-2 order: {@code !}..{@code ~}, {@code ¡}..{@code ¬},
 * {@code ®}..{@code ÿ}, then the remapped bytes {@code Ā}..), then one id per merge result, then the special tokens
 * {@code <|endoftext|>}, {@code <|im_start|>}, {@code <|im_end|>}, {@code <|vision_start|>}, {@code <|vision_end|>},
 * {@code <|image_pad|>} right after. Merges: a few dozen common English
 * pairs ({@link #COMMON_MERGES}), then merges that make every pre-token of the Qwen-Image prompt template's fixed text
 * ({@code system}, {@code Describe}, {@code Ġthe}, ..., {@code user}, {@code assistant}) a single token, so that, as
 * with the real Qwen2 vocabulary, the template's system turn plus {@code <|im_start|>user\n} is exactly 34 tokens.
 *
 * <p>The static methods use that default tokenizer. {@link #withWords(List)} builds another one whose whole-word
 * merges also cover given texts (e.g. a captioned data set's vocabulary); its first ids match the default's, its
 * special token ids follow its larger vocabulary.
 */
public final class TinyTokenizer {
    /** Common pairs, lowest rank first (GPT-2-like). */
    public static final List<String> COMMON_MERGES = List.of(
            "Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r", "Ġ s", "a t", "Ġ w", "Ġ o", "e n", "Ġ c",
            "i t", "i s", "a n", "o r", "e s", "Ġ b", "e d", "Ġ f", "in g", "Ġ p", "o u", "Ġa n", "a l", "a r",
            "Ġt o", "Ġ m", "Ġo f", "Ġ in", "Ġ d", "Ġ h", "Ġan d", "t h", "th e", "l l", "Ġ l", "o w", "Ċ Ċ");

    /** Text whose pre-tokens each become one token (the fixed parts of the Qwen-Image template). */
    static final List<String> WHOLE_WORDS = List.of(
            "system\nDescribe the image by detailing the color, shape, size, texture, quantity, text, spatial "
                    + "relationships of the objects and background:",
            "user\n", "assistant\n");

    public static final String END_OF_TEXT = "<|endoftext|>";
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";
    public static final String VISION_START = "<|vision_start|>";
    public static final String VISION_END = "<|vision_end|>";
    public static final String IMAGE_PAD = "<|image_pad|>";
    /**
     * In id order. The vision tokens come last (as in Qwen2, where they follow {@code <|im_end|>}: 151652, 151653,
     * 151655), so the ids of the first three never moved when they were added.
     */
    public static final List<String> SPECIAL_TOKENS = List.of(END_OF_TEXT, IM_START, IM_END, VISION_START, VISION_END,
            IMAGE_PAD);

    private static final TinyTokenizer DEFAULT = new TinyTokenizer(WHOLE_WORDS);

    /** Embedding rows a text encoder needs for the default tokenizer (largest id + 1). */
    public static final int VOCAB_SIZE = DEFAULT.vocabSize();

    private final Model model;

    private TinyTokenizer(List<String> wholeWords) {
        this.model = build(wholeWords);
    }

    /**
     * A tokenizer whose merges make every pre-token of the template text and of {@code texts} a single token (a word
     * with its leading space, e.g. {@code Ġcircle}); the default tokenizer's merges come first, unchanged.
     */
    public static TinyTokenizer withWords(List<String> texts) {
        List<String> words = new ArrayList<>(WHOLE_WORDS);
        words.addAll(texts);
        return new TinyTokenizer(words);
    }

    /** Embedding rows a text encoder needs for this tokenizer (largest id + 1). */
    public int vocabSize() {
        return model.vocabSize();
    }

    /** This tokenizer, without files. */
    public ByteLevelBpeTokenizer bpe() {
        return new ByteLevelBpeTokenizer(model.vocab(), model.merges(), model.special(), END_OF_TEXT);
    }

    private record Model(Map<String, Integer> vocab, List<String[]> merges, Map<String, Integer> special) {
        int vocabSize() {
            return vocab.size() + special.size();
        }
    }

    private static Model build(List<String> wholeWords) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int i = 0; i < 256; i++) {
            vocab.put(String.valueOf(ByteLevelBpeTokenizer.byteSymbol(gpt2Order(i))), i);
        }
        List<String[]> merges = new ArrayList<>();
        Map<ByteLevelBpeTokenizer.Pair, Integer> ranks = new HashMap<>();
        for (String m : COMMON_MERGES) {
            addMerge(m.split(" "), vocab, merges, ranks);
        }
        for (String text : wholeWords) {
            Matcher m = ByteLevelBpeTokenizer.PRETOKENIZE.matcher(text);
            while (m.find()) {
                String word = ByteLevelBpeTokenizer.byteLevel(m.group());
                // Join the first two symbols the current merges leave, until the pre-token is one symbol. The new
                // merge ranks last, so it applies only after everything the earlier merges do to this word.
                List<String> symbols = ByteLevelBpeTokenizer.bpe(word, ranks);
                while (symbols.size() > 1) {
                    addMerge(new String[] {symbols.get(0), symbols.get(1)}, vocab, merges, ranks);
                    symbols = ByteLevelBpeTokenizer.bpe(word, ranks);
                }
            }
        }
        Map<String, Integer> special = new LinkedHashMap<>();
        for (String s : SPECIAL_TOKENS) {
            special.put(s, vocab.size() + special.size());
        }
        return new Model(Collections.unmodifiableMap(vocab), List.copyOf(merges), Collections.unmodifiableMap(special));
    }

    /** The byte whose symbol gets id {@code i}: printable bytes first in byte order, then the rest in byte order. */
    private static int gpt2Order(int i) {
        int seen = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (int b = 0; b < 256; b++) {
                boolean direct = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
                if (direct == (pass == 0) && seen++ == i) {
                    return b;
                }
            }
        }
        throw new IllegalArgumentException("byte index " + i);
    }

    private static void addMerge(String[] pair, Map<String, Integer> vocab, List<String[]> merges,
            Map<ByteLevelBpeTokenizer.Pair, Integer> ranks) {
        if (!vocab.containsKey(pair[0]) || !vocab.containsKey(pair[1])) {
            throw new IllegalStateException("merge " + pair[0] + " " + pair[1] + " joins a symbol not in the vocabulary");
        }
        ranks.put(new ByteLevelBpeTokenizer.Pair(pair[0], pair[1]), merges.size());
        merges.add(pair);
        vocab.putIfAbsent(pair[0] + pair[1], vocab.size());
    }

    /** The default tokenizer itself, without files. */
    public static ByteLevelBpeTokenizer tokenizer() {
        return DEFAULT.bpe();
    }

    /**
     * Writes {@code vocab.json}, {@code merges.txt} (with a {@code #version} line) and {@code tokenizer_config.json}
     * ({@code added_tokens_decoder}, {@code tokenizer_class Qwen2Tokenizer}) into {@code dir}, as a Qwen2 snapshot's
     * {@code tokenizer/} folder has them.
     *
     * @return the vocabulary size a text encoder needs ({@link #VOCAB_SIZE})
     */
    public static int write(Path dir) {
        return DEFAULT.writeTo(dir);
    }

    /**
     * Writes this tokenizer's files into {@code dir}, as {@link #write(Path)} does for the default one.
     *
     * @return {@link #vocabSize()}
     */
    public int writeTo(Path dir) {
        ObjectMapper json = new ObjectMapper();
        try {
            Files.createDirectories(dir);
            ObjectNode vocab = json.createObjectNode();
            model.vocab().forEach(vocab::put);
            json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("vocab.json").toFile(), vocab);
            StringBuilder merges = new StringBuilder("#version: 0.2\n");
            for (String[] m : model.merges()) {
                merges.append(m[0]).append(' ').append(m[1]).append('\n');
            }
            Files.writeString(dir.resolve("merges.txt"), merges, StandardCharsets.UTF_8);
            ObjectNode config = json.createObjectNode();
            config.put("add_prefix_space", false);
            ObjectNode decoder = config.putObject("added_tokens_decoder");
            model.special().forEach((content, id) -> {
                ObjectNode t = decoder.putObject(Integer.toString(id));
                t.put("content", content);
                t.put("lstrip", false);
                t.put("normalized", false);
                t.put("rstrip", false);
                t.put("single_word", false);
                t.put("special", true);
            });
            ArrayNode extra = config.putArray("additional_special_tokens");
            extra.add(IM_START).add(IM_END).add(VISION_START).add(VISION_END).add(IMAGE_PAD);
            config.putNull("bos_token");
            config.put("clean_up_tokenization_spaces", false);
            config.put("eos_token", IM_END);
            config.put("errors", "replace");
            config.put("model_max_length", 131072);
            config.put("pad_token", END_OF_TEXT);
            config.put("split_special_tokens", false);
            config.put("tokenizer_class", "Qwen2Tokenizer");
            config.putNull("unk_token");
            json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tiny tokenizer to " + dir, e);
        }
        return vocabSize();
    }

    /**
     * Writes the same tokenizer as a HF tokenizers {@code tokenizer.json} (NFC normaliser, Qwen2 split regex,
     * byte-level BPE) into {@code dir}.
     *
     * @param pairMerges merges as {@code ["a", "b"]} pairs (tokenizers ≥ 0.20) instead of {@code "a b"} strings
     * @return {@link #VOCAB_SIZE}
     */
    public static int writeTokenizerJson(Path dir, boolean pairMerges) {
        return DEFAULT.writeTokenizerJsonTo(dir, pairMerges);
    }

    private int writeTokenizerJsonTo(Path dir, boolean pairMerges) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        model.special().forEach((content, id) -> added.addObject().put("id", id).put("content", content)
                .put("single_word", false).put("lstrip", false).put("rstrip", false).put("normalized", false)
                .put("special", true));
        root.putObject("normalizer").put("type", "NFC");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        ObjectNode split = steps.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", ByteLevelBpeTokenizer.PRETOKENIZE_REGEX);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false)
                .put("use_regex", false);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false)
                .put("use_regex", false);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        this.model.vocab().forEach(vocab::put);
        ArrayNode merges = model.putArray("merges");
        for (String[] m : this.model.merges()) {
            if (pairMerges) {
                merges.addArray().add(m[0]).add(m[1]);
            } else {
                merges.add(m[0] + " " + m[1]);
            }
        }
        try {
            Files.createDirectories(dir);
            json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer.json").toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tokenizer.json to " + dir, e);
        }
        return vocabSize();
    }
}
