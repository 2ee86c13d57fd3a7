package dev.ditfn.scenes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditfn.model.text.ByteLevelBpeTokenizer;
import dev.ditfn.model.text.PromptTemplate;
import dev.ditfn.model.text.TinyTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SceneDatasetTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    @Test
    void writesImagesCaptionsTokenizerAndMeta() throws Exception {
        assertEquals(0, SceneDatasetCommand.main("--split", "eval", "--count", "12", "--seed", "3", "--size", "64",
                "--out", dir.toString()));
        byte[] images = Files.readAllBytes(dir.resolve("images.u8"));
        assertEquals(12 * 64 * 64 * 3, images.length);
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(dir.resolve("captions.jsonl"));
        assertEquals(12, lines.size());
        ByteLevelBpeTokenizer bpe = SceneDataset.tokenizer().bpe();
        List<CaptionedScene> expected = new SceneSampler(3).stream(SceneSplit.EVAL).limit(12).toList();
        for (int i = 0; i < 12; i++) {
            JsonNode line = json.readTree(lines.get(i));
            String caption = line.get("caption").asText();
            assertEquals(expected.get(i).caption(), caption);
            long[] ids = new long[line.get("ids").size()];
            for (int j = 0; j < ids.length; j++) {
                ids[j] = line.get("ids").get(j).asLong();
            }
            assertArrayEquals(PromptTemplate.QWEN_IMAGE.templateIds(bpe, caption), ids);
            byte[] image = Arrays.copyOfRange(images, i * 64 * 64 * 3, (i + 1) * 64 * 64 * 3);
            assertArrayEquals(SceneRenderer.render(expected.get(i).scene(), 64).rgb(), image);
        }
        JsonNode meta = json.readTree(dir.resolve("meta.json").toFile());
        assertEquals("eval", meta.get("split").asText());
        assertEquals(12, meta.get("count").asInt());
        assertEquals(3, meta.get("seed").asLong());
        assertEquals(64, meta.get("size").asInt());
        assertEquals(SceneDataset.tokenizer().vocabSize(), meta.get("vocab_size").asInt());
        assertEquals(34, meta.get("drop_index").asInt());
        assertEquals(PromptTemplate.QWEN_IMAGE.templateIds(bpe, " ").length, meta.get("negative_ids").size());
        for (String file : List.of("vocab.json", "merges.txt", "tokenizer_config.json")) {
            assertTrue(Files.size(dir.resolve("tokenizer").resolve(file)) > 0, file);
        }
        assertEquals(SceneDataset.tokenizer().vocabSize(),
                json.readTree(dir.resolve("tokenizer/vocab.json").toFile()).size()
                        + TinyTokenizer.SPECIAL_TOKENS.size());
    }

    @Test
    void sameSeedSameBytes(@TempDir Path other) throws Exception {
        assertEquals(0, SceneDatasetCommand.main("--split", "train", "--count", "20", "--seed", "8", "--out",
                dir.toString()));
        assertEquals(0, SceneDatasetCommand.main("--split", "train", "--count", "20", "--seed", "8", "--out",
                other.toString()));
        for (String file : List.of("images.u8", "captions.jsonl", "meta.json")) {
            assertArrayEquals(Files.readAllBytes(dir.resolve(file)), Files.readAllBytes(other.resolve(file)), file);
        }
        assertEquals(20 * 96 * 96 * 3, Files.size(dir.resolve("images.u8")));
    }

    @Test
    void badArgumentsExitWithTwo() {
        assertEquals(2, SceneDatasetCommand.main("--split", "test", "--count", "5", "--out", dir.toString()));
        assertEquals(2, SceneDatasetCommand.main("--split", "train", "--count", "many", "--out", dir.toString()));
        assertEquals(2, SceneDatasetCommand.main("--split", "train", "--count", "5", "--size", "100", "--out",
                dir.toString()));
        assertEquals(2, SceneDatasetCommand.main("--split", "train", "--count", "5"));
        assertEquals(2, SceneDatasetCommand.main("--split", "train", "--count", "5", "--out"));
        assertEquals(2, SceneDatasetCommand.main("--colour", "red"));
    }
}
