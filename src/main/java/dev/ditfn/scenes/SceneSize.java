package dev.ditfn.scenes;

import java.util.Locale;

/** An object's size: its extent (bounding box side) as a fraction of the image width. */
public enum SceneSize {
    SMALL(0.17), LARGE(0.28);

    /** The size a caption means when it names none. */
    public static final SceneSize DEFAULT = LARGE;

    private final double extent;

    SceneSize(double extent) {
        this.extent = extent;
    }

    /** Bounding box side over image width. */
    public double extent() {
        return extent;
    }

    /** The caption word, e.g. {@code small}. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
