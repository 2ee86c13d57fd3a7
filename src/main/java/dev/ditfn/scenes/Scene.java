package dev.ditfn.scenes;

import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A background colour and one or two objects in distinct cells, each of a colour other than the background.
 * Objects are kept in cell (reading) order, so a scene has one form whatever order it was built in: captions list
 * objects in that order and the held-out split hashes one description per scene.
 */
public record Scene(SceneColour background, List<SceneObject> objects) {
    public Scene {
        Objects.requireNonNull(background, "background");
        if (objects.isEmpty() || objects.size() > 2) {
            throw new IllegalArgumentException("a scene has 1 or 2 objects, got " + objects.size());
        }
        Set<SceneCell> cells = new HashSet<>();
        for (SceneObject o : objects) {
            if (o.colour() == background) {
                throw new IllegalArgumentException("an object has the background colour " + background.word());
            }
            if (!cells.add(o.cell())) {
                throw new IllegalArgumentException("two objects in cell " + o.cell());
            }
        }
        objects = objects.stream().sorted(Comparator.comparing(SceneObject::cell)).toList();
    }

    /** A one-object scene. */
    public static Scene of(SceneColour background, SceneObject object) {
        return new Scene(background, List.of(object));
    }

    /** The object in {@code cell}, or null. */
    public SceneObject objectIn(SceneCell cell) {
        return objects.stream().filter(o -> o.cell() == cell).findFirst().orElse(null);
    }
}
