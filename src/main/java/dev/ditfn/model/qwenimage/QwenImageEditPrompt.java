package dev.ditfn.model.qwenimage;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.ditfn.engine.InvalidInputException;
import dev.ditfn.engine.PipelineParts;
import dev.ditfn.engine.image.ImageTensors;
import dev.ditfn.model.text.ByteLevelBpeTokenizer;
import dev.ditfn.model.text.PromptTemplate;
import dev.ditfn.model.text.QwenPromptEncoder;
import dev.ditfn.model.text.QwenTextEncoder;
import dev.ditfn.model.text.QwenTextEncoderConfig;
import dev.ditfn.model.text.QwenTextInputs;
import dev.ditfn.model.text.TinyTokenizer;
import dev.ditfn.model.vision.QwenVisionConfig;
import dev.ditfn.model.vision.QwenVisionInputs;
import dev.ditfn.model.vision.QwenVisionTower;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import dev.ditfn.weights.DiffusersSnapshot;
import dev.ditfn.weights.WeightStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Qwen-Image-Edit's prompt encoding (zimage-edit-spec B4, B5): the prompt in the Edit template with the input
 * images' vision tokens ({@code <|vision_start|><|image_pad|><|vision_end|>}; Edit Plus: one
 * {@code "Picture i: "} block per image), each {@code <|image_pad|>} expanded to the image's merged tokens, the
 * Qwen2.5-VL vision tower's embeddings spliced in at those rows, M-RoPE positions, the LM's final hidden states with
 * the first 64 rows (the system prompt) dropped. Nothing is truncated (upstream's processor does not truncate).
 */
final class QwenImageEditPrompt {
    /** The system prompt both Edit pipelines put before the user turn. */
    private static final String SYSTEM = "<|im_start|>system\nDescribe the key features of the input image (color, "
            + "shape, size, texture, objects, background), then explain how the user's text instruction should alter "
            + "or modify the image. Generate a new image that meets the user's requirements while maintaining "
            + "consistency with the original input where appropriate.<|im_end|>\n<|im_start|>user\n";
    private static final String VISION = "<|vision_start|><|image_pad|><|vision_end|>";
    /** {@code prompt_template_encode_start_idx}: the system prompt's tokens. */
    static final int DROP = 64;
    /** No tokenizer truncation for Edit: a bound no prompt within the request limits reaches. */
    private static final int NO_TRUNCATION = 1 << 20;
    static final PromptTemplate EDIT = new PromptTemplate(SYSTEM + VISION
            + "{}<|im_end|>\n<|im_start|>assistant\n", DROP, NO_TRUNCATION);
    static final PromptTemplate EDIT_PLUS = new PromptTemplate(SYSTEM
            + "{}<|im_end|>\n<|im_start|>assistant\n", DROP, NO_TRUNCATION);

    /**
     * The input images as the language model takes them: the vision tower's embeddings, all images' rows one after
     * the other, and each image's merged grid and token count. The same for both guidance branches' prompts.
     */
    record ImageEmbeds(float[] embeds, int[][] mergedGrids, int[] tokens) {
    }

    private final OrtRuntime runtime;
    private final QwenImageVariant variant;
    private final ByteLevelBpeTokenizer tokenizer;
    private final QwenTextEncoderConfig config;
    private final QwenVisionConfig visionConfig;
    private final ModelSession lm;
    private final ModelSession vision;
    private final long imagePad;
    private final long visionStart;

    private QwenImageEditPrompt(OrtRuntime runtime, QwenImageVariant variant, ByteLevelBpeTokenizer tokenizer,
            QwenTextEncoderConfig config, QwenVisionConfig visionConfig, ModelSession lm, ModelSession vision) {
        this.runtime = runtime;
        this.variant = variant;
        this.tokenizer = tokenizer;
        this.config = config;
        this.visionConfig = visionConfig;
        this.lm = lm;
        this.vision = vision;
        this.imagePad = tokenId(tokenizer, TinyTokenizer.IMAGE_PAD);
        this.visionStart = tokenId(tokenizer, TinyTokenizer.VISION_START);
        tokenId(tokenizer, TinyTokenizer.VISION_END);
    }

    private static long tokenId(ByteLevelBpeTokenizer tokenizer, String token) {
        Integer id = tokenizer.tokenId(token);
        if (id == null) {
            throw new IllegalArgumentException("the tokenizer has no " + token + " token, which Qwen-Image-Edit's"
                    + " prompt needs");
        }
        return id;
    }

    /**
     * Loads the tokenizer, the LM (with image splicing; its linears quantized as {@code quantization} says) and the
     * vision tower (full precision) of {@code snapshot}'s text encoder.
     */
    static QwenImageEditPrompt load(DiffusersSnapshot snapshot, OrtRuntime runtime, PipelineParts parts,
            QwenImageVariant variant, QwenTextEncoderConfig config, WeightQuantization quantization,
            Consumer<String> stage) {
        stage.accept("tokenizer");
        ByteLevelBpeTokenizer tokenizer = ByteLevelBpeTokenizer.load(snapshot.componentDir("tokenizer"));
        stage.accept("text encoder");
        config.checkTokenizer(tokenizer);
        QwenVisionConfig visionConfig = QwenVisionConfig.fromJson(snapshot.config("text_encoder"));
        if (visionConfig.patchSize() != ImageTensors.PATCH_SIZE || visionConfig.spatialMergeSize() != 2
                || visionConfig.temporalPatchSize() != 2) {
            throw new IllegalArgumentException("text_encoder vision_config: patch_size " + visionConfig.patchSize()
                    + ", spatial_merge_size " + visionConfig.spatialMergeSize() + ", temporal_patch_size "
                    + visionConfig.temporalPatchSize() + " differ from the Qwen2-VL processor's 14, 2, 2");
        }
        if (visionConfig.outHiddenSize() != config.hiddenSize()) {
            throw new IllegalArgumentException("text_encoder vision_config.out_hidden_size "
                    + visionConfig.outHiddenSize() + " != hidden_size " + config.hiddenSize());
        }
        WeightStore weights = parts.weights(snapshot.weights("text_encoder"));
        ModelSession lm = parts.own(runtime.createSession(
                new QwenTextEncoder(config).buildWithImages(runtime.device().target(), weights, quantization),
                weights));
        stage.accept("vision encoder");
        ModelSession vision = parts.own(runtime.createSession(
                new QwenVisionTower(visionConfig).build(runtime.device().target(), weights), weights));
        return new QwenImageEditPrompt(runtime, variant, tokenizer, config, visionConfig, lm, vision);
    }

    int hiddenSize() {
        return config.hiddenSize();
    }

    /** The vision tower on every input image (the vision processor's patches of each). */
    ImageEmbeds images(List<ImageTensors.VisionPatches> images) {
        List<float[]> embeds = new ArrayList<>();
        int[][] grids = new int[images.size()][];
        int[] tokens = new int[images.size()];
        for (int i = 0; i < images.size(); i++) {
            embeds.add(visionEmbeds(images.get(i)));
            grids[i] = new int[] {images.get(i).gridH() / 2, images.get(i).gridW() / 2};
            tokens[i] = images.get(i).mergedTokens();
        }
        return new ImageEmbeds(concat(embeds), grids, tokens);
    }

    /**
     * The rows of {@code prompt} (the request's {@code field}) about {@code images}; at most {@code maxRows} rows
     * (what the DiT's text positions leave), checked before the language model runs.
     */
    QwenPromptEncoder.Rows encode(String field, String prompt, ImageEmbeds images, int maxRows) {
        for (String token : List.of(TinyTokenizer.IMAGE_PAD, TinyTokenizer.VISION_START, TinyTokenizer.VISION_END)) {
            if (prompt.contains(token)) {
                throw new InvalidInputException(field, "invalid_value", "may not contain " + token
                        + ": the edit prompt places the images itself");
            }
        }
        int count = images.tokens().length;
        long[] ids = expandImagePads(variant == QwenImageVariant.EDIT_PLUS
                ? EDIT_PLUS.templateIds(tokenizer, pictures(count) + prompt)
                : EDIT.templateIds(tokenizer, prompt), images.tokens());
        if (ids.length - DROP > maxRows) {
            throw new InvalidInputException(field, "invalid_value", "with the images it is " + (ids.length - DROP)
                    + " tokens; the model's text positions leave room for " + maxRows + " (shorten it)");
        }
        int len = ids.length;
        long[] mask = new long[len];
        Arrays.fill(mask, 1L);
        long[] positions = QwenTextInputs.imagePositions(ids, imagePad);
        QwenTextInputs.Rope rope = QwenTextInputs.mropeTables(
                QwenTextInputs.mropePositionIds(ids, imagePad, visionStart, images.mergedGrids()), config.headDim(),
                config.ropeTheta(), config.mropeSection());
        float[] bias = QwenTextInputs.attentionBias(mask, 1, len);
        float[] allEmbeds = images.embeds();
        int hidden = config.hiddenSize();
        try (OnnxTensor idTensor = Tensors.longs(runtime.env(), ids, 1, len);
                OnnxTensor cos = Tensors.of(runtime.env(), DType.FLOAT32, rope.cos(), len, config.headDim());
                OnnxTensor sin = Tensors.of(runtime.env(), DType.FLOAT32, rope.sin(), len, config.headDim());
                OnnxTensor biasTensor = Tensors.of(runtime.env(), DType.FLOAT32, bias, 1, 1, len, len);
                OnnxTensor imageEmbeds = Tensors.of(runtime.env(), lmActivation(), allEmbeds,
                        allEmbeds.length / hidden, hidden);
                OnnxTensor imageRows = Tensors.longs(runtime.env(), positions, positions.length);
                OrtSession.Result r = lm.run(Map.of(QwenTextEncoder.INPUT_IDS, idTensor, QwenTextEncoder.COS, cos,
                        QwenTextEncoder.SIN, sin, QwenTextEncoder.ATTENTION_BIAS, biasTensor,
                        QwenTextEncoder.IMAGE_EMBEDS, imageEmbeds, QwenTextEncoder.IMAGE_POSITIONS, imageRows))) {
            float[] rows = EDIT.selectAll(Tensors.floats(r.get(0)), mask, hidden);
            return new QwenPromptEncoder.Rows(rows, rows.length / hidden);
        } catch (OrtException e) {
            throw new IllegalStateException("text encoder failed: " + e.getMessage(), e);
        }
    }

    private DType lmActivation() {
        return runtime.device().target().activationType();
    }

    /** Edit Plus' per-image prefix: {@code "Picture 1: <vision>Picture 2: <vision>..."}. */
    static String pictures(int count) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= count; i++) {
            sb.append("Picture ").append(i).append(": ").append(VISION);
        }
        return sb.toString();
    }

    /** The processor's expansion: the i-th {@code <|image_pad|>} becomes image i's merged-token count of pads. */
    private long[] expandImagePads(long[] ids, int[] tokens) {
        List<Long> out = new ArrayList<>();
        int image = 0;
        for (long id : ids) {
            if (id != imagePad) {
                out.add(id);
                continue;
            }
            if (image >= tokens.length) {
                throw new IllegalArgumentException("the prompt holds more image placeholders than there are images;"
                        + " '" + TinyTokenizer.IMAGE_PAD + "' may not appear in a prompt");
            }
            for (int k = 0; k < tokens[image]; k++) {
                out.add(imagePad);
            }
            image++;
        }
        if (image != tokens.length) {
            throw new IllegalStateException(tokens.length + " images but " + image + " placeholders in the template");
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** The vision tower on one image's patches: {@code [merged tokens, hidden]}. */
    private float[] visionEmbeds(ImageTensors.VisionPatches p) {
        int rows = p.rows();
        int gh = p.gridH();
        int gw = p.gridW();
        QwenTextInputs.Rope rope = visionConfig.rope(gh, gw);
        QwenVisionInputs.Windows w = visionConfig.windows(gh, gw);
        try (OnnxTensor pixels = Tensors.of(runtime.env(), DType.FLOAT32, p.pixelValues(), rows,
                visionConfig.patchFeatures());
                OnnxTensor cos = Tensors.of(runtime.env(), DType.FLOAT32, rope.cos(), rows, visionConfig.headDim());
                OnnxTensor sin = Tensors.of(runtime.env(), DType.FLOAT32, rope.sin(), rows, visionConfig.headDim());
                OnnxTensor windowRows = Tensors.longs(runtime.env(), w.rows(), w.rows().length);
                OnnxTensor padBias = Tensors.of(runtime.env(), DType.FLOAT32, w.padBias(), w.count(), 1, 1,
                        w.length());
                OnnxTensor inverse = Tensors.longs(runtime.env(), w.inverseRows(), rows);
                OrtSession.Result r = vision.run(Map.of(QwenVisionTower.PIXEL_VALUES, pixels,
                        QwenVisionTower.ROPE_COS, cos, QwenVisionTower.ROPE_SIN, sin, QwenVisionTower.WINDOW_ROWS,
                        windowRows, QwenVisionTower.WINDOW_PAD_BIAS, padBias, QwenVisionTower.INVERSE_ROWS,
                        inverse))) {
            return Tensors.floats(r.get(0));
        } catch (OrtException e) {
            throw new IllegalStateException("vision encoder failed: " + e.getMessage(), e);
        }
    }

    private static float[] concat(List<float[]> parts) {
        int n = parts.stream().mapToInt(a -> a.length).sum();
        float[] out = new float[n];
        int at = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }
}
