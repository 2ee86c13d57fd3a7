package dev.ditfn.model.text;

import dev.ditfn.scenes.Phrasing;
import dev.ditfn.scenes.SceneCaption;
import dev.ditfn.scenes.SceneDataset;
import dev.ditfn.scenes.SceneSampler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TinyTokenizerWordsTest {
    private static final TinyTokenizer CAPTIONS = SceneDataset.tokenizer();

    @Test
    void everyCaptionWordIsOneToken() {
        ByteLevelBpeTokenizer bpe = CAPTIONS.bpe();
        int overhead = PromptTemplate.QWEN_IMAGE.templateIds(bpe, "").length;
        SceneSampler sampler = new SceneSampler(1);
        for (int i = 0; i < 300; i++) {
            for (Phrasing p : Phrasing.ALL) {
                String caption = SceneCaption.caption(sampler.sample(i).scene(), p);
                assertEquals(overhead + caption.split(" ").length,
                        PromptTemplate.QWEN_IMAGE.templateIds(bpe, caption).length, caption);
            }
        }
    }

    @Test
    void extendsTheDefaultTokenizerWithoutChangingIt() {
        String template = "<|im_start|>system\nDescribe the image by detailing the color<|im_end|>\n";
        assertArrayEquals(TinyTokenizer.tokenizer().encode(template),
                TinyTokenizer.withWords(List.of()).bpe().encode(template));
        assertEquals(TinyTokenizer.VOCAB_SIZE, TinyTokenizer.withWords(List.of()).vocabSize());
        // The default merges come first, so plain text the default makes tokens of keeps its ids.
        String plain = "system\nDescribe the image and the water";
        assertArrayEquals(TinyTokenizer.tokenizer().encode(plain), CAPTIONS.bpe().encode(plain));
        assertTrue(CAPTIONS.vocabSize() > TinyTokenizer.VOCAB_SIZE);
    }

    @Test
    void writesItsOwnFiles(@TempDir Path dir) throws Exception {
        assertEquals(CAPTIONS.vocabSize(), CAPTIONS.writeTo(dir));
        ByteLevelBpeTokenizer read = ByteLevelBpeTokenizer.load(dir);
        String caption = "a small red circle at the top left on a blue background";
        assertArrayEquals(CAPTIONS.bpe().encode(caption), read.encode(caption));
        assertTrue(Files.readString(dir.resolve("merges.txt")).startsWith("#version"));
    }
}
