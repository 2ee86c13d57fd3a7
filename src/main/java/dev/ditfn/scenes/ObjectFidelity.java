package dev.ditfn.scenes;

/**
 * How one expected object shows in an image.
 *
 * @param colour   the object's pixels are mostly its colour
 * @param shape    its outline matches the expected shape best of all shapes
 * @param size     ... and the expected size
 * @param position its cell holds at least half the area of its shape drawn small, in foreground
 */
public record ObjectFidelity(boolean colour, boolean shape, boolean size, boolean position) {
    /** All checks hold. */
    public boolean passed() {
        return colour && shape && size && position;
    }
}
