package dev.ditfn.scenes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditfn.engine.image.RgbImage;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code fidelity}: scores images laid out as a {@link SceneDataset} ({@code images.u8} beside
 * {@code captions.jsonl} and {@code meta.json}) against their captions with {@link SceneFidelity}. Trainers write
 * their samples in that layout, so a model can be scored while it trains by the same evaluator that scores the
 * served one; the rendered data set itself scores 100%.
 */
public final class SceneScoreCommand {
    static final String USAGE = "usage: fidelity --data DIR [--images FILE (default DIR/images.u8)]";
    private static final Set<String> OPTIONS = Set.of("data", "images");

    private SceneScoreCommand() {
    }

    /** Runs the command; returns the exit code (0 scored, 1 unreadable files, 2 bad arguments). */
    public static int main(String... args) {
        Path data;
        Path images;
        try {
            Map<String, String> options = SceneDatasetCommand.options(args, OPTIONS);
            data = Path.of(SceneDatasetCommand.required(options, "data"));
            images = options.containsKey("images") ? Path.of(options.get("images")) : data.resolve("images.u8");
        } catch (IllegalArgumentException e) {
            System.err.println("fidelity: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        }
        try {
            FidelitySummary s = FidelitySummary.of(score(data, images));
            System.out.printf(Locale.ROOT, "fidelity: %d images, accuracy %.1f%% (background %.1f%%, colour %.1f%%,"
                    + " shape %.1f%%, size %.1f%%, position %.1f%%, no extra objects %.1f%%)%n", s.count(),
                    100 * s.accuracy(), 100 * s.background(), 100 * s.colour(), 100 * s.shape(), 100 * s.size(),
                    100 * s.position(), 100 * s.noExtraObjects());
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("fidelity: " + e.getMessage());
            return 1;
        }
    }

    /** Every image of {@code images} scored against its caption in {@code data}, in order. */
    static List<FidelityResult> score(Path data, Path images) throws IOException {
        ObjectMapper json = new ObjectMapper();
        int size = SceneRenderer.checkSize(json.readTree(data.resolve("meta.json").toFile()).path("size").asInt());
        List<String> captions = new ArrayList<>();
        try (BufferedReader lines = Files.newBufferedReader(data.resolve("captions.jsonl"), StandardCharsets.UTF_8)) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                JsonNode row = json.readTree(line);
                captions.add(row.path("caption").asText());
            }
        }
        long imageBytes = 3L * size * size;
        if (Files.size(images) != imageBytes * captions.size()) {
            throw new IllegalArgumentException(images + " holds " + Files.size(images) + " bytes, not "
                    + captions.size() + " images of " + size + "x" + size + " RGB");
        }
        List<FidelityResult> results = new ArrayList<>();
        try (InputStream in = Files.newInputStream(images)) {
            for (String caption : captions) {
                Scene scene = SceneCaption.parse(caption).orElseThrow(
                        () -> new IllegalArgumentException("not a scene caption: " + caption));
                results.add(SceneFidelity.evaluate(new RgbImage(size, size, in.readNBytes((int) imageBytes)), scene));
            }
        }
        return results;
    }
}
