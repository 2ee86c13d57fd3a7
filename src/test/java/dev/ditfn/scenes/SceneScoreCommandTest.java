package dev.ditfn.scenes;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SceneScoreCommandTest {
    private static final int COUNT = 20;
    private static final int SIZE = 64;

    @TempDir
    Path dir;

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    private void writeDataset() {
        assertEquals(0, SceneDatasetCommand.main("--split", "eval", "--count", Integer.toString(COUNT), "--seed", "5",
                "--size", Integer.toString(SIZE), "--out", dir.toString()));
    }

    @Test
    void theRenderedImagesPassEveryCheck() throws Exception {
        writeDataset();
        FidelitySummary s = FidelitySummary.of(SceneScoreCommand.score(dir, dir.resolve("images.u8")));
        assertEquals(COUNT, s.count());
        assertEquals(1.0, s.accuracy());
        assertEquals(0, SceneScoreCommand.main("--data", dir.toString()));
    }

    @Test
    void imagesScoredAgainstAnotherImagesCaptionsFail() throws Exception {
        writeDataset();
        int bytes = 3 * SIZE * SIZE;
        byte[] images = Files.readAllBytes(dir.resolve("images.u8"));
        byte[] shifted = new byte[images.length];
        // image i + 1 in slot i: every caption now describes a different scene than its image shows
        System.arraycopy(images, bytes, shifted, 0, images.length - bytes);
        System.arraycopy(images, 0, shifted, images.length - bytes, bytes);
        Path other = dir.resolve("shifted.u8");
        Files.write(other, shifted);
        List<FidelityResult> results = SceneScoreCommand.score(dir, other);
        assertTrue(FidelitySummary.of(results).accuracy() < 0.2, "accuracy " + FidelitySummary.of(results).accuracy());
    }

    @Test
    void anImagesFileOfTheWrongLengthIsRefused() throws Exception {
        writeDataset();
        Path truncated = dir.resolve("truncated.u8");
        byte[] images = Files.readAllBytes(dir.resolve("images.u8"));
        Files.write(truncated, Arrays.copyOf(images, images.length - 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SceneScoreCommand.score(dir, truncated));
        assertTrue(e.getMessage().contains("not " + COUNT + " images of 64x64 RGB"), e.getMessage());
        assertEquals(1, SceneScoreCommand.main("--data", dir.toString(), "--images", truncated.toString()));
    }

    @Test
    void badArgumentsAreUsageErrors() {
        assertEquals(2, SceneScoreCommand.main());
        assertEquals(2, SceneScoreCommand.main("--data", dir.toString(), "--image", "x"));
        assertEquals(1, SceneScoreCommand.main("--data", dir.resolve("missing").toString()));
    }
}
