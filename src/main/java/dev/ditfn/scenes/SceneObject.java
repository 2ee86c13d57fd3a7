package dev.ditfn.scenes;

import java.util.Objects;

/** One object of a scene: a shape of one colour and size, centred in a grid cell. */
public record SceneObject(SceneShape shape, SceneColour colour, SceneSize size, SceneCell cell) {
    public SceneObject {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(colour, "colour");
        Objects.requireNonNull(size, "size");
        Objects.requireNonNull(cell, "cell");
    }
}
