package dev.ditfn.scenes;

import java.util.List;
import java.util.function.Predicate;

/**
 * How an image matches the scene it should show.
 *
 * @param background     the pixels outside the objects' cells are mostly the background colour
 * @param objects        one entry per expected object, in the scene's order
 * @param noExtraObjects no other cell holds an object's worth of foreground
 */
public record FidelityResult(boolean background, List<ObjectFidelity> objects, boolean noExtraObjects) {
    public FidelityResult {
        objects = List.copyOf(objects);
    }

    /** Every check holds. */
    public boolean passed() {
        return background && noExtraObjects && objects.stream().allMatch(ObjectFidelity::passed);
    }

    /** Whether {@code check} holds for every object. */
    public boolean allObjects(Predicate<ObjectFidelity> check) {
        return objects.stream().allMatch(check);
    }
}
