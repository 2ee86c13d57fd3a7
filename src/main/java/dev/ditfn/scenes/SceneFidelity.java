package dev.ditfn.scenes;

import dev.ditfn.engine.image.RgbImage;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Scores an image against the scene its prompt describes, knowing how {@link SceneRenderer} draws scenes:
 * <ol>
 * <li>every pixel is classified to its nearest palette colour;</li>
 * <li>background: the most common class outside the objects' cells is the background colour;</li>
 * <li>per object, colour is the most common class other than the background in its cell, and foreground is the
 * pixels of the cell nearer to that colour than to the background (RGB distance); shape and size are those of the
 * renderer mask (every shape and size, centred in that cell) with the highest IoU with the foreground, which must
 * also reach {@link #MIN_IOU}; position holds when the foreground covers at least {@link #MIN_POSITION_AREA} of the
 * expected shape's area drawn small (small, so that a wrong size fails the size check only);</li>
 * <li>no extra objects: every other cell has less foreground than {@link #MAX_STRAY_AREA} of the smallest small
 * shape.</li>
 * </ol>
 * Works at any size {@link SceneRenderer#checkSize} accepts.
 */
public final class SceneFidelity {
    /** Below this the best matching outline is no match at all (noise, a blob). */
    public static final double MIN_IOU = 0.5;
    /** Foreground in the expected cell over the expected shape's small area. */
    public static final double MIN_POSITION_AREA = 0.5;
    /** Foreground an empty cell may hold, over the smallest small shape's area (antialiasing, speckles). */
    public static final double MAX_STRAY_AREA = 0.25;

    private SceneFidelity() {
    }

    /** How {@code image} matches {@code expected}. */
    public static FidelityResult evaluate(RgbImage image, Scene expected) {
        if (image.width() != image.height()) {
            throw new IllegalArgumentException("scene images are square, got " + image.width() + "x" + image.height());
        }
        int side = SceneRenderer.checkSize(image.width());
        SceneColour[] classes = classify(image);
        ShapeMasks masks = ShapeMasks.forSize(side);
        SceneColour bg = expected.background();
        List<ObjectFidelity> objects = new ArrayList<>();
        for (SceneObject o : expected.objects()) {
            objects.add(evaluateObject(image, classes, side, o, bg, masks));
        }
        boolean noExtra = true;
        for (SceneCell cell : SceneCell.values()) {
            if (expected.objectIn(cell) == null
                    && foregroundArea(classes, side, cell, bg) >= MAX_STRAY_AREA * masks.smallestArea()) {
                noExtra = false;
            }
        }
        return new FidelityResult(backgroundMatches(classes, side, expected), objects, noExtra);
    }

    private static ObjectFidelity evaluateObject(RgbImage image, SceneColour[] classes, int side, SceneObject o,
            SceneColour bg, ShapeMasks masks) {
        Map<SceneColour, Integer> counts = new EnumMap<>(SceneColour.class);
        for (int i = 0; i < classes.length; i++) {
            if (classes[i] != bg && SceneCell.at(i % side, i / side, side) == o.cell()) {
                counts.merge(classes[i], 1, Integer::sum);
            }
        }
        SceneColour found = mostCommon(counts);
        boolean colour = o.colour() == found;
        boolean[] foreground = found == null ? new boolean[classes.length]
                : foreground(image, side, o.cell(), found, bg);
        SceneShape bestShape = null;
        SceneSize bestSize = null;
        double bestIou = MIN_IOU;
        for (SceneShape shape : SceneShape.values()) {
            for (SceneSize size : SceneSize.values()) {
                double iou = iou(foreground, masks.mask(o.cell(), shape, size));
                if (iou >= bestIou) {
                    bestIou = iou;
                    bestShape = shape;
                    bestSize = size;
                }
            }
        }
        int area = ShapeMasks.area(foreground);
        boolean position = area >= MIN_POSITION_AREA * ShapeMasks.area(masks.mask(o.cell(), o.shape(), SceneSize.SMALL));
        return new ObjectFidelity(colour, bestShape == o.shape(), bestSize == o.size(), position);
    }

    /**
     * The pixels of {@code cell} nearer to the object's colour than to the background's. Edge pixels that blend the
     * two are split where the blend is half and half, as the renderer's masks are; classifying them to the nearest
     * palette colour instead would count a blend that lands on a third colour as object and fatten small shapes.
     */
    private static boolean[] foreground(RgbImage image, int side, SceneCell cell, SceneColour object,
            SceneColour bg) {
        boolean[] foreground = new boolean[side * side];
        byte[] rgb = image.rgb();
        for (int i = 0; i < foreground.length; i++) {
            if (SceneCell.at(i % side, i / side, side) == cell) {
                int r = rgb[3 * i] & 0xff;
                int g = rgb[3 * i + 1] & 0xff;
                int b = rgb[3 * i + 2] & 0xff;
                foreground[i] = object.distanceTo(r, g, b) < bg.distanceTo(r, g, b);
            }
        }
        return foreground;
    }

    private static boolean backgroundMatches(SceneColour[] classes, int side, Scene expected) {
        Map<SceneColour, Integer> counts = new EnumMap<>(SceneColour.class);
        for (int i = 0; i < classes.length; i++) {
            if (expected.objectIn(SceneCell.at(i % side, i / side, side)) == null) {
                counts.merge(classes[i], 1, Integer::sum);
            }
        }
        return mostCommon(counts) == expected.background();
    }

    private static int foregroundArea(SceneColour[] classes, int side, SceneCell cell, SceneColour bg) {
        int n = 0;
        for (int i = 0; i < classes.length; i++) {
            if (classes[i] != bg && SceneCell.at(i % side, i / side, side) == cell) {
                n++;
            }
        }
        return n;
    }

    private static SceneColour[] classify(RgbImage image) {
        SceneColour[] classes = new SceneColour[image.width() * image.height()];
        byte[] rgb = image.rgb();
        for (int i = 0; i < classes.length; i++) {
            classes[i] = SceneColour.nearest(rgb[3 * i] & 0xff, rgb[3 * i + 1] & 0xff, rgb[3 * i + 2] & 0xff);
        }
        return classes;
    }

    private static SceneColour mostCommon(Map<SceneColour, Integer> counts) {
        return counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
    }

    private static double iou(boolean[] a, boolean[] b) {
        int both = 0;
        int either = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] && b[i]) {
                both++;
            }
            if (a[i] || b[i]) {
                either++;
            }
        }
        return either == 0 ? 0 : (double) both / either;
    }
}
