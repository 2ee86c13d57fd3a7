package dev.ditfn.engine;

import dev.ditfn.cache.CacheTarget;
import dev.ditfn.cache.StepCacheDriver;

import java.util.Set;

/**
 * A loaded model family's pipeline: turns validated parameters into encoded images. Safe for concurrent calls; every
 * session it runs was created at load.
 */
public interface DiffusionPipeline extends AutoCloseable {

    /** What a pipeline can be asked to do. */
    enum Task { TEXT_TO_IMAGE, EDIT }

    Set<Task> tasks();

    /** How many input images an edit takes at most (0: the pipeline does not edit). */
    default int maxInputImages() {
        return 0;
    }

    /** Width and height must be multiples of this (the VAE's scale factor times the latent patch size). */
    int sizeMultiple();

    /** Defaults for fields a request leaves out, and when guidance runs. */
    RequestDefaults requestDefaults();

    /** What step-cache settings are checked against: the transformer's segments, the family's TeaCache defaults. */
    CacheTarget cacheTarget();

    /**
     * Generates {@code params.images()} images (from {@code params.inputImages()} when editing), checking
     * {@code context} between denoising steps.
     */
    default GenerationResult generate(GenerationParams params, RequestContext context) {
        return generate(params, context, null);
    }

    /** {@link #generate(GenerationParams, RequestContext)}, with {@code observer} (may be null) on the tea_cache path. */
    GenerationResult generate(GenerationParams params, RequestContext context, StepCacheDriver.BlockObserver observer);

    /** Weight tensors loaded, over all components. */
    int tensorCount();

    /** Bytes of those tensors (memory-mapped, not on the heap). */
    long weightBytes();

    /** ORT sessions held, over all components: fixed at load. */
    int sessionCount();

    @Override
    void close();
}
