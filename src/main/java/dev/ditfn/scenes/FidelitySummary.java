package dev.ditfn.scenes;

import java.util.List;
import java.util.function.Predicate;

/**
 * Accuracies over many evaluated images, for reports: the share of images that pass everything, and of images that
 * pass each check (object checks counting when they hold for every object of the image).
 */
public record FidelitySummary(int count, double accuracy, double background, double colour, double shape,
        double size, double position, double noExtraObjects) {

    /** The summary of {@code results} (all zeros when empty). */
    public static FidelitySummary of(List<FidelityResult> results) {
        return new FidelitySummary(results.size(),
                share(results, FidelityResult::passed),
                share(results, FidelityResult::background),
                share(results, r -> r.allObjects(ObjectFidelity::colour)),
                share(results, r -> r.allObjects(ObjectFidelity::shape)),
                share(results, r -> r.allObjects(ObjectFidelity::size)),
                share(results, r -> r.allObjects(ObjectFidelity::position)),
                share(results, FidelityResult::noExtraObjects));
    }

    private static double share(List<FidelityResult> results, Predicate<FidelityResult> check) {
        return results.isEmpty() ? 0 : (double) results.stream().filter(check).count() / results.size();
    }
}
