package dev.ditfn.engine;

/** A loaded text-to-image model: turns validated parameters into encoded images. Safe for concurrent calls. */
public interface TextToImagePipeline extends AutoCloseable {

    /** Width and height must be multiples of this (2 × the VAE's scale factor, for the 2×2 latent packing). */
    int sizeMultiple();

    GenerationResult generate(GenerationParams params);

    /** Blocks of the denoising transformer (step-cache settings are checked against it). */
    int transformerBlocks();

    /** Weight tensors loaded, over all components. */
    int tensorCount();

    /** Bytes of those tensors (memory-mapped, not on the heap). */
    long weightBytes();

    @Override
    void close();
}
