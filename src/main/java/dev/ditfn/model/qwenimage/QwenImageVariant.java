package dev.ditfn.model.qwenimage;

import dev.ditfn.engine.DiffusionPipeline;

/**
 * The Qwen-Image pipelines this family serves: one DiT and VAE, three ways of conditioning them. Edit adds one input
 * image (prompt template with the image, condition tokens after the noise tokens); Edit Plus (2509, 2511) up to three,
 * each with its own "Picture i:" block, a 384² vision image and a 1024² VAE image.
 *
 * @param maxInputImages 0 for text-to-image
 */
public enum QwenImageVariant {
    TEXT_TO_IMAGE("QwenImagePipeline", DiffusionPipeline.Task.TEXT_TO_IMAGE, 0),
    EDIT("QwenImageEditPipeline", DiffusionPipeline.Task.EDIT, 1),
    EDIT_PLUS("QwenImageEditPlusPipeline", DiffusionPipeline.Task.EDIT, 3);

    private final String pipelineClass;
    private final DiffusionPipeline.Task task;
    private final int maxInputImages;

    QwenImageVariant(String pipelineClass, DiffusionPipeline.Task task, int maxInputImages) {
        this.pipelineClass = pipelineClass;
        this.task = task;
        this.maxInputImages = maxInputImages;
    }

    /** {@code model_index.json}'s {@code _class_name}. */
    public String pipelineClass() {
        return pipelineClass;
    }

    public DiffusionPipeline.Task task() {
        return task;
    }

    public int maxInputImages() {
        return maxInputImages;
    }

    public boolean edits() {
        return task == DiffusionPipeline.Task.EDIT;
    }
}
