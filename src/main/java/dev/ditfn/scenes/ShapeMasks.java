package dev.ditfn.scenes;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The renderer's mask of every shape and size in every cell at one image size: the candidates the evaluator matches
 * an object against. Built once per size and cached, since evaluating many images reuses them.
 */
final class ShapeMasks {
    private static final Map<Integer, ShapeMasks> BY_SIZE = new ConcurrentHashMap<>();

    private final Map<SceneCell, Map<SceneShape, Map<SceneSize, boolean[]>>> masks = new EnumMap<>(SceneCell.class);
    private final int smallestArea;

    private ShapeMasks(int imageSize) {
        int smallest = Integer.MAX_VALUE;
        for (SceneCell cell : SceneCell.values()) {
            Map<SceneShape, Map<SceneSize, boolean[]>> byShape = new EnumMap<>(SceneShape.class);
            for (SceneShape shape : SceneShape.values()) {
                Map<SceneSize, boolean[]> bySize = new EnumMap<>(SceneSize.class);
                for (SceneSize size : SceneSize.values()) {
                    boolean[] mask = SceneRenderer.mask(shape, size, cell, imageSize);
                    bySize.put(size, mask);
                    smallest = Math.min(smallest, area(mask));
                }
                byShape.put(shape, bySize);
            }
            masks.put(cell, byShape);
        }
        this.smallestArea = smallest;
    }

    static ShapeMasks forSize(int imageSize) {
        return BY_SIZE.computeIfAbsent(imageSize, ShapeMasks::new);
    }

    boolean[] mask(SceneCell cell, SceneShape shape, SceneSize size) {
        return masks.get(cell).get(shape).get(size);
    }

    /** Pixel area of the smallest shape drawn small. */
    int smallestArea() {
        return smallestArea;
    }

    static int area(boolean[] mask) {
        int n = 0;
        for (boolean b : mask) {
            if (b) {
                n++;
            }
        }
        return n;
    }
}
