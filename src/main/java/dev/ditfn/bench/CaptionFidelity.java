package dev.ditfn.bench;

import dev.ditfn.engine.image.RgbImage;
import dev.ditfn.scenes.FidelityResult;
import dev.ditfn.scenes.FidelitySummary;
import dev.ditfn.scenes.Scene;
import dev.ditfn.scenes.SceneCaption;
import dev.ditfn.scenes.SceneFidelity;
import dev.ditfn.scenes.SceneRenderer;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Optional;

/**
 * What {@code bench} and {@code calibrate} share to score images against their prompts: a prompt that parses as a
 * scene caption ({@link SceneCaption#parse}) is checked with {@link SceneFidelity} (background, every object's
 * colour, shape, size and cell, no extra object); any other prompt is not scored.
 */
public final class CaptionFidelity {
    /** The largest scored side: the evaluator keeps every mask of a size (90 of side² bytes) for the run. */
    static final int MAX_SIZE = 512;
    /** How the reports describe the measure. */
    public static final String DESCRIPTION = "fidelity = share of the images whose prompt is a scene caption that "
            + "pass SceneFidelity against it (background, every object's colour, shape, size and cell, no extra "
            + "object)";

    private CaptionFidelity() {
    }

    /** How {@code image} matches the scene {@code prompt} describes; empty when the prompt is not a caption. */
    public static Optional<FidelityResult> score(String prompt, BufferedImage image) {
        Optional<Scene> scene = SceneCaption.parse(prompt);
        if (scene.isEmpty() || !scorable(image.getWidth(), image.getHeight())) {
            return Optional.empty();
        }
        return Optional.of(SceneFidelity.evaluate(RgbImage.of(image), scene.get()));
    }

    /** Whether some prompt is a scene caption, i.e. whether a run measures fidelity at all. */
    public static boolean anyCaption(List<String> prompts) {
        return prompts.stream().anyMatch(p -> SceneCaption.parse(p).isPresent());
    }

    /** Whether SceneFidelity can score a {@code width} x {@code height} image (square, a renderer size). */
    public static boolean scorable(int width, int height) {
        return width == height && width >= SceneRenderer.MIN_SIZE && width <= MAX_SIZE
                && width % SceneRenderer.SIZE_STEP == 0;
    }

    /** Throws unless images of {@code size} can be scored. */
    static void requireScorable(int[] size, String why) {
        if (!scorable(size[0], size[1])) {
            throw new IllegalArgumentException(why + " needs a square --size, a multiple of "
                    + SceneRenderer.SIZE_STEP + " from " + SceneRenderer.MIN_SIZE + " to " + MAX_SIZE + ", got "
                    + size[0] + "x" + size[1]);
        }
    }

    /** The summary of {@code results}, or null when nothing was scored (no prompt was a caption). */
    public static FidelitySummary summary(List<FidelityResult> results) {
        return results.isEmpty() ? null : FidelitySummary.of(results);
    }

    /** The share of {@code results} that pass, NaN when nothing was scored. */
    public static double passShare(List<FidelityResult> results) {
        return results.isEmpty() ? Double.NaN : FidelitySummary.of(results).accuracy();
    }

    /** A share as a percentage for tables, "—" when not measured. */
    static String percent(double share) {
        return Double.isNaN(share) ? "—" : String.format(java.util.Locale.ROOT, "%.0f%%", 100 * share);
    }
}
