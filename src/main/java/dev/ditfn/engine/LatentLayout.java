package dev.ditfn.engine;

/**
 * How a family lays image latents {@code [C, h, w]} out as the transformer's token sequence, and back. Noise is drawn
 * in the unpacked layout, so the same seed gives the same latents whatever the layout.
 */
public interface LatentLayout {

    /** Tokens of one image. */
    int tokens();

    /** Channels of one token. */
    int tokenChannels();

    /** {@code [C, h, w]} to {@code [tokens, tokenChannels]}. */
    float[] pack(float[] latents);

    /** The exact inverse of {@link #pack}. */
    float[] unpack(float[] tokens);
}
