package dev.ditfn.scenes;

/** The eight colours a scene uses, with the sRGB value the renderer paints and the word captions use. */
public enum SceneColour {
    RED(220, 40, 40),
    ORANGE(245, 140, 30),
    YELLOW(240, 210, 40),
    GREEN(40, 170, 60),
    BLUE(40, 90, 220),
    PURPLE(140, 60, 180),
    WHITE(245, 245, 245),
    BLACK(25, 25, 25);

    private final int red;
    private final int green;
    private final int blue;

    SceneColour(int red, int green, int blue) {
        this.red = red;
        this.green = green;
        this.blue = blue;
    }

    /** The caption word, e.g. {@code orange}. */
    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** {@code 0xRRGGBB}. */
    public int rgb() {
        return red << 16 | green << 8 | blue;
    }

    /** Squared RGB distance from this colour to the given pixel. */
    public int distanceTo(int r, int g, int b) {
        int dr = r - red;
        int dg = g - green;
        int db = b - blue;
        return dr * dr + dg * dg + db * db;
    }

    /** The palette colour nearest to the given pixel (squared RGB distance). */
    public static SceneColour nearest(int r, int g, int b) {
        SceneColour best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (SceneColour c : values()) {
            int d = c.distanceTo(r, g, b);
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        return best;
    }
}
