package dev.ditfn.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

class PromptTemplateTest {
    private final ByteLevelBpeTokenizer tok = TinyTokenizer.tokenizer();

    @Test
    void templateIsThePipelinesText() {
        assertEquals("<|im_start|>system\nDescribe the image by detailing the color, shape, size, texture, quantity, "
                + "text, spatial relationships of the objects and background:<|im_end|>\n<|im_start|>user\n"
                + "a {cat}<|im_end|>\n<|im_start|>assistant\n", PromptTemplate.QWEN_IMAGE.format("a {cat}"));
        assertEquals(34, PromptTemplate.QWEN_IMAGE.dropIndex());
        assertEquals(1058, PromptTemplate.QWEN_IMAGE.maxTokens());
        assertEquals(512, PromptTemplate.DEFAULT_MAX_SEQUENCE_LENGTH);
    }

    @Test
    void anotherTemplateDropsItsOwnCountAndIsCheckedAtConstruction() {
        PromptTemplate two = new PromptTemplate("[{}]", 2, 3);
        assertEquals("[x]", two.format("x"));
        assertEquals(5, two.maxTokens());
        float[] hidden = {0, 0, 1, 1, 2, 2, 3, 3}; // 4 rows of width 2
        assertArrayEquals(new float[] {2, 2, 3, 3}, two.select(hidden, new long[] {1, 1, 1, 1}, 2, 512));
        assertThrows(IllegalArgumentException.class, () -> new PromptTemplate("no slot", 2, 3));
        assertThrows(IllegalArgumentException.class, () -> new PromptTemplate("[{}]", -1, 3));
    }

    @Test
    void theDroppedTokensAreExactlyTheSystemTurnAndUserHeader() {
        String prompt = "A red cat sits on the mat";
        long[] ids = PromptTemplate.QWEN_IMAGE.templateIds(tok, prompt);
        long[] dropped = Arrays.copyOf(ids, 34);
        assertEquals("<|im_start|>system\nDescribe the image by detailing the color, shape, size, texture, quantity, "
                + "text, spatial relationships of the objects and background:<|im_end|>\n<|im_start|>user\n",
                tok.decode(dropped));
        long[] kept = Arrays.copyOfRange(ids, 34, ids.length);
        assertEquals(prompt + "<|im_end|>\n<|im_start|>assistant\n", tok.decode(kept));
        assertArrayEquals(tok.encode(prompt), Arrays.copyOf(kept, kept.length - 5), "prompt tokens start at 34");
        long[] tail = Arrays.copyOfRange(kept, kept.length - 5, kept.length);
        assertArrayEquals(new long[] {tok.tokenId("<|im_end|>"), tok.tokenId("Ċ"), tok.tokenId("<|im_start|>"),
                tok.tokenId("assistant"), tok.tokenId("Ċ")}, tail, "5 trailing template tokens");
    }

    /** Qwen-Image cuts at 1024 + 34 = 1058 tokens, Z-Image at 512 (its template suffix included). */
    @ParameterizedTest
    @CsvSource({"QWEN_IMAGE, 1058", "Z_IMAGE, 512"})
    void longPromptsAreCutAtMaxTokens(String name, int maxTokens) {
        PromptTemplate template = name.equals("Z_IMAGE") ? PromptTemplate.Z_IMAGE : PromptTemplate.QWEN_IMAGE;
        assertEquals(maxTokens, template.maxTokens());
        String prompt = "x ".repeat(2000);
        long[] ids = template.templateIds(tok, prompt);
        assertEquals(maxTokens, ids.length);
        long[] full = tok.encode(template.format(prompt));
        assertArrayEquals(Arrays.copyOf(full, maxTokens), ids, "right-side truncation");
        assertFalse(tok.decode(ids).endsWith("<|im_start|>assistant\n"), "the template suffix is lost too");
    }

    @Test
    void aTokenizerGivingFewerThan35TemplateTokensIsRefused() {
        // Whole chunks of the template as added tokens: the template collapses to a handful of tokens.
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) {
            vocab.put(TinyTokenizer.tokenizer().token(b), b);
        }
        Map<String, Integer> added = new LinkedHashMap<>();
        added.put("<|im_start|>", 256);
        added.put("<|im_end|>", 257);
        added.put("system\nDescribe the image by detailing the color, shape, size, texture, quantity, text, spatial "
                + "relationships of the objects and background:", 258);
        ByteLevelBpeTokenizer coarse = new ByteLevelBpeTokenizer(vocab, List.of(), added, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PromptTemplate.QWEN_IMAGE.templateIds(coarse, "hi"));
        assertTrue(e.getMessage().contains("35"), e.getMessage());
    }

    private static float[] rows(int n, int width, int base) {
        float[] h = new float[n * width];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < width; c++) {
                h[r * width + c] = base + r + c / 100f;
            }
        }
        return h;
    }

    @Test
    void selectDropsTheFirst34ValidRowsAndCuts() {
        int width = 3;
        int len = 40;
        float[] hidden = rows(len, width, 0);
        long[] mask = new long[len];
        Arrays.fill(mask, 0, 38, 1); // right padding: 38 valid, 4 left after the drop
        float[] out = PromptTemplate.QWEN_IMAGE.select(hidden, mask, width, 512);
        assertArrayEquals(Arrays.copyOfRange(hidden, 34 * width, 38 * width), out);
        assertArrayEquals(Arrays.copyOfRange(hidden, 34 * width, 36 * width),
                PromptTemplate.QWEN_IMAGE.select(hidden, mask, width, 2), "max_sequence_length cut");
        // Left padding: valid rows are 2..39; the drop counts valid rows, not positions.
        long[] left = new long[len];
        Arrays.fill(left, 2, len, 1);
        assertArrayEquals(Arrays.copyOfRange(hidden, 36 * width, 40 * width),
                PromptTemplate.QWEN_IMAGE.select(hidden, left, width, 512));
        long[] tooShort = new long[len];
        Arrays.fill(tooShort, 0, 34, 1);
        assertThrows(IllegalArgumentException.class, () -> PromptTemplate.QWEN_IMAGE.select(hidden, tooShort, width, 512));
        assertThrows(IllegalArgumentException.class, () -> PromptTemplate.QWEN_IMAGE.select(hidden, mask, width, 1025));
        assertThrows(IllegalArgumentException.class, () -> PromptTemplate.QWEN_IMAGE.select(hidden, mask, width, 0));
    }

    @Test
    void batchSelectPadsWithZeroRowsAndMasks() {
        int width = 2;
        int len = 40;
        float[] hidden = new float[2 * len * width];
        System.arraycopy(rows(len, width, 0), 0, hidden, 0, len * width);
        System.arraycopy(rows(len, width, 1000), 0, hidden, len * width, len * width);
        long[] mask = new long[2 * len];
        Arrays.fill(mask, 0, 37, 1);        // sample 0: 37 valid -> 3 rows
        Arrays.fill(mask, len, 2 * len, 1); // sample 1: 40 valid -> 6 rows
        PromptTemplate.PromptEmbeds p = PromptTemplate.QWEN_IMAGE.select(hidden, mask, 2, len, width, 512);
        assertEquals(6, p.length());
        assertEquals(List.of(1L, 1L, 1L, 0L, 0L, 0L, 1L, 1L, 1L, 1L, 1L, 1L),
                Arrays.stream(p.mask()).boxed().toList());
        assertEquals(34f, p.embeds()[0]);
        assertEquals(36f, p.embeds()[2 * width]);
        assertEquals(0f, p.embeds()[3 * width]);
        assertEquals(1034f, p.embeds()[6 * width]);
        assertFalse(p.maskAllOnes());
        PromptTemplate.PromptEmbeds cut = PromptTemplate.QWEN_IMAGE.select(hidden, mask, 2, len, width, 3);
        assertEquals(3, cut.length());
        assertTrue(cut.maskAllOnes(), "both samples fill the cut length");
    }

    // ---- Z-Image (Qwen3 chat template, nothing dropped) -------------------------------------------------

    @Test
    void zImageTemplateIsTheQwen3ChatTemplateOfOneUserMessage() {
        // Stock Qwen3 template, add_generation_prompt=True, enable_thinking=True: no system turn, no <think> block.
        assertEquals("<|im_start|>user\na {cat}<|im_end|>\n<|im_start|>assistant\n",
                PromptTemplate.Z_IMAGE.format("a {cat}"));
        assertEquals(0, PromptTemplate.Z_IMAGE.dropIndex());
        assertEquals(512, PromptTemplate.Z_IMAGE.tokenizerMaxLength());
        assertEquals(512, PromptTemplate.Z_IMAGE.maxTokens(), "tokenizer max_length = max_sequence_length 512");
    }

    @Test
    void zImageKeepsEveryTemplateToken() {
        String prompt = "A red cat sits on the mat";
        long[] ids = PromptTemplate.Z_IMAGE.templateIds(tok, prompt);
        assertEquals(PromptTemplate.Z_IMAGE.format(prompt), tok.decode(ids), "nothing dropped or cut");
        long[] head = tok.encode("<|im_start|>user\n");
        assertArrayEquals(head, Arrays.copyOf(ids, head.length));
        long[] tail = {tok.tokenId("<|im_end|>"), tok.tokenId("Ċ"), tok.tokenId("<|im_start|>"),
            tok.tokenId("assistant"), tok.tokenId("Ċ")};
        assertArrayEquals(tail, Arrays.copyOfRange(ids, ids.length - 5, ids.length), "5 trailing template tokens");
        assertArrayEquals(tok.encode(prompt), Arrays.copyOfRange(ids, head.length, ids.length - 5));
        // The CFG negative prompt "" is still templated, so it has rows.
        long[] empty = PromptTemplate.Z_IMAGE.templateIds(tok, "");
        assertEquals(head.length + 5, empty.length);
    }

    @Test
    void zImageSelectKeepsAllValidRows() {
        int width = 3;
        int len = 6;
        float[] hidden = rows(len, width, 0);
        long[] mask = {1, 1, 1, 1, 0, 0};
        assertArrayEquals(Arrays.copyOf(hidden, 4 * width), PromptTemplate.Z_IMAGE.select(hidden, mask, width, 512));
        long[] none = new long[len];
        assertThrows(IllegalArgumentException.class, () -> PromptTemplate.Z_IMAGE.select(hidden, none, width, 512));
        float[] two = new float[2 * len * width];
        System.arraycopy(hidden, 0, two, 0, hidden.length);
        System.arraycopy(rows(len, width, 1000), 0, two, hidden.length, hidden.length);
        long[] masks = {1, 1, 1, 1, 0, 0, /* */ 1, 1, 0, 0, 0, 0};
        PromptTemplate.PromptEmbeds p = PromptTemplate.Z_IMAGE.select(two, masks, 2, len, width, 512);
        assertEquals(4, p.length());
        assertEquals(List.of(1L, 1L, 1L, 1L, 1L, 1L, 0L, 0L), Arrays.stream(p.mask()).boxed().toList());
        assertEquals(0f, p.embeds()[0]);
        assertEquals(1001f, p.embeds()[5 * width]);
        assertEquals(0f, p.embeds()[6 * width]);
    }
}
