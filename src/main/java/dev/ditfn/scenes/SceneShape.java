package dev.ditfn.scenes;

import java.util.Locale;

/** The five shapes an object can have; {@link ShapeGeometry} draws them. */
public enum SceneShape {
    CIRCLE, SQUARE, TRIANGLE, STAR, CROSS;

    /** The caption word, e.g. {@code circle}. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
