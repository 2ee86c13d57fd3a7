package dev.ditfn.scenes;

import java.util.List;

/**
 * How a caption words a scene. A caption always states an object's size or position when it differs from the default
 * ({@link SceneSize#DEFAULT}, {@link SceneCell#DEFAULT} for a single object); the flags make it state the default ones
 * too. Two-object captions always state positions.
 *
 * @param backgroundFirst   {@code a blue background with ...} instead of {@code ... on a blue background}
 * @param explicitSizes     state {@code large} too
 * @param explicitPositions state {@code in the center} for a single object too
 */
public record Phrasing(boolean backgroundFirst, boolean explicitSizes, boolean explicitPositions) {
    /** Everything stated, objects first: the description the held-out split hashes. */
    public static final Phrasing CANONICAL = new Phrasing(false, true, true);

    /** All phrasings. */
    public static final List<Phrasing> ALL = List.of(
            new Phrasing(false, false, false), new Phrasing(false, false, true),
            new Phrasing(false, true, false), CANONICAL,
            new Phrasing(true, false, false), new Phrasing(true, false, true),
            new Phrasing(true, true, false), new Phrasing(true, true, true));

    /** The phrasings that word {@code scene} differently (position flags make no difference for two objects). */
    public static List<Phrasing> distinctFor(Scene scene) {
        return scene.objects().size() == 1 ? ALL : ALL.stream().filter(Phrasing::explicitPositions).toList();
    }
}
