package dev.ditfn.scenes;

/** One cell of the 3x3 grid an image is divided into, in reading order, with its caption phrase. */
public enum SceneCell {
    TOP_LEFT("at the top left"),
    TOP("at the top"),
    TOP_RIGHT("at the top right"),
    LEFT("on the left"),
    CENTER("in the center"),
    RIGHT("on the right"),
    BOTTOM_LEFT("at the bottom left"),
    BOTTOM("at the bottom"),
    BOTTOM_RIGHT("at the bottom right");

    /** The position a one-object caption means when it names none. */
    public static final SceneCell DEFAULT = CENTER;

    private final String phrase;

    SceneCell(String phrase) {
        this.phrase = phrase;
    }

    /** The caption phrase, e.g. {@code at the top left}. */
    public String phrase() {
        return phrase;
    }

    /** 0 (left) .. 2 (right). */
    public int column() {
        return ordinal() % 3;
    }

    /** 0 (top) .. 2 (bottom). */
    public int row() {
        return ordinal() / 3;
    }

    /** The cell that pixel (x, y) of a {@code size}-wide square image lies in. */
    public static SceneCell at(int x, int y, int size) {
        return values()[Math.min(2, y * 3 / size) * 3 + Math.min(2, x * 3 / size)];
    }
}
