package dev.ditfn.scenes;

import dev.ditfn.engine.image.RgbImage;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * Paints scenes with Java2D (antialiased, headless-safe, deterministic: the same scene and size give the same bytes).
 */
public final class SceneRenderer {
    private SceneRenderer() {
    }

    /** The smallest image side; sides are multiples of {@link #SIZE_STEP}. */
    public static final int MIN_SIZE = 64;
    /** Image sides are multiples of this (the model's latent patching). */
    public static final int SIZE_STEP = 16;

    /** Checks that {@code size} is a supported image side. */
    public static int checkSize(int size) {
        if (size < MIN_SIZE || size % SIZE_STEP != 0) {
            throw new IllegalArgumentException("image size must be a multiple of " + SIZE_STEP + ", at least "
                    + MIN_SIZE + ", got " + size);
        }
        return size;
    }

    /** {@code scene} as a {@code size} x {@code size} image. */
    public static RgbImage render(Scene scene, int size) {
        checkSize(size);
        BufferedImage canvas = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = antialiased(canvas);
        g.setColor(new Color(scene.background().rgb()));
        g.fillRect(0, 0, size, size);
        for (SceneObject o : scene.objects()) {
            g.setColor(new Color(o.colour().rgb()));
            g.fill(ShapeGeometry.outline(o.shape(), o.size(), o.cell(), size));
        }
        g.dispose();
        return RgbImage.of(canvas);
    }

    /**
     * Pixels an object covers at least half of, as the renderer antialiases it: what the evaluator compares an
     * image's foreground with.
     */
    static boolean[] mask(SceneShape shape, SceneSize size, SceneCell cell, int imageSize) {
        BufferedImage canvas = new BufferedImage(imageSize, imageSize, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = antialiased(canvas);
        g.setColor(Color.WHITE);
        g.fill(ShapeGeometry.outline(shape, size, cell, imageSize));
        g.dispose();
        boolean[] mask = new boolean[imageSize * imageSize];
        for (int y = 0; y < imageSize; y++) {
            for (int x = 0; x < imageSize; x++) {
                mask[y * imageSize + x] = (canvas.getRGB(x, y) & 0xff) >= 128;
            }
        }
        return mask;
    }

    private static Graphics2D antialiased(BufferedImage canvas) {
        Graphics2D g = canvas.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        return g;
    }
}
