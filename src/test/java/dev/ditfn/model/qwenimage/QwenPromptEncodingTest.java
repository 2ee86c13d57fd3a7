package dev.ditfn.model.qwenimage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditfn.model.text.ByteLevelBpeTokenizer;
import dev.ditfn.model.text.TinyTokenizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

class QwenPromptEncodingTest {
    private final ByteLevelBpeTokenizer tok = TinyTokenizer.tokenizer();

    @Test
    void templateIsThePipelinesText() {
        assertEquals("<|im_start|>system\nDescribe the image by detailing the color, shape, size, texture, quantity, "
                + "text, spatial relationships of the objects and background:<|im_end|>\n<|im_start|>user\n"
                + "a {cat}<|im_end|>\n<|im_start|>assistant\n", QwenPromptEncoding.format("a {cat}"));
        assertEquals(34, QwenPromptEncoding.DROP_INDEX);
        assertEquals(1058, QwenPromptEncoding.MAX_TOKENS);
        assertEquals(512, QwenPromptEncoding.DEFAULT_MAX_SEQUENCE_LENGTH);
    }

    @Test
    void theDroppedTokensAreExactlyTheSystemTurnAndUserHeader() {
        String prompt = "A red cat sits on the mat";
        long[] ids = QwenPromptEncoding.templateIds(tok, prompt);
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

    @Test
    void longPromptsAreCutAt1058Tokens() {
        String prompt = "x ".repeat(2000);
        long[] ids = QwenPromptEncoding.templateIds(tok, prompt);
        assertEquals(1058, ids.length);
        long[] full = tok.encode(QwenPromptEncoding.format(prompt));
        assertArrayEquals(Arrays.copyOf(full, 1058), ids, "right-side truncation");
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
                () -> QwenPromptEncoding.templateIds(coarse, "hi"));
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
        float[] out = QwenPromptEncoding.select(hidden, mask, width, 512);
        assertArrayEquals(Arrays.copyOfRange(hidden, 34 * width, 38 * width), out);
        assertArrayEquals(Arrays.copyOfRange(hidden, 34 * width, 36 * width),
                QwenPromptEncoding.select(hidden, mask, width, 2), "max_sequence_length cut");
        // Left padding: valid rows are 2..39; the drop counts valid rows, not positions.
        long[] left = new long[len];
        Arrays.fill(left, 2, len, 1);
        assertArrayEquals(Arrays.copyOfRange(hidden, 36 * width, 40 * width),
                QwenPromptEncoding.select(hidden, left, width, 512));
        long[] tooShort = new long[len];
        Arrays.fill(tooShort, 0, 34, 1);
        assertThrows(IllegalArgumentException.class, () -> QwenPromptEncoding.select(hidden, tooShort, width, 512));
        assertThrows(IllegalArgumentException.class, () -> QwenPromptEncoding.select(hidden, mask, width, 1025));
        assertThrows(IllegalArgumentException.class, () -> QwenPromptEncoding.select(hidden, mask, width, 0));
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
        QwenPromptEncoding.PromptEmbeds p = QwenPromptEncoding.select(hidden, mask, 2, len, width, 512);
        assertEquals(6, p.length());
        assertEquals(List.of(1L, 1L, 1L, 0L, 0L, 0L, 1L, 1L, 1L, 1L, 1L, 1L),
                Arrays.stream(p.mask()).boxed().toList());
        assertEquals(34f, p.embeds()[0]);
        assertEquals(36f, p.embeds()[2 * width]);
        assertEquals(0f, p.embeds()[3 * width]);
        assertEquals(1034f, p.embeds()[6 * width]);
        assertFalse(p.maskAllOnes());
        QwenPromptEncoding.PromptEmbeds cut = QwenPromptEncoding.select(hidden, mask, 2, len, width, 3);
        assertEquals(3, cut.length());
        assertTrue(cut.maskAllOnes(), "both samples fill the cut length");
    }
}
