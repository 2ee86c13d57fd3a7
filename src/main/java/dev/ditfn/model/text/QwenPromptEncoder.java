package dev.ditfn.model.text;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.ditfn.engine.PipelineParts;
import dev.ditfn.engine.PromptCache;
import dev.ditfn.onnx.DType;
import dev.ditfn.onnx.WeightQuantization;
import dev.ditfn.runtime.ModelSession;
import dev.ditfn.runtime.OrtRuntime;
import dev.ditfn.runtime.Tensors;
import dev.ditfn.weights.DiffusersSnapshot;
import dev.ditfn.weights.WeightStore;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A Qwen decoder LM (Qwen2.5-VL's or Qwen3) loaded as a pipeline's prompt encoder: the snapshot's tokenizer, the
 * encoder graph in one session, and the family's {@link PromptTemplate}. Turns a prompt into the rows the DiT reads
 * (the template's rows dropped, cut at {@code max_sequence_length}); repeated prompts come from a small cache.
 */
public final class QwenPromptEncoder {
    /** Prompt rows {@code [length, hidden]}. */
    public record Rows(float[] values, int length) {
    }

    private final OrtRuntime runtime;
    private final ByteLevelBpeTokenizer tokenizer;
    private final QwenDecoderConfig config;
    private final ModelSession session;
    private final PromptTemplate template;
    private final PromptCache<Rows> cache = new PromptCache<>(64);

    private QwenPromptEncoder(OrtRuntime runtime, ByteLevelBpeTokenizer tokenizer, QwenDecoderConfig config,
            ModelSession session, PromptTemplate template) {
        this.runtime = runtime;
        this.tokenizer = tokenizer;
        this.config = config;
        this.session = session;
        this.template = template;
    }

    /**
     * Loads {@code tokenizer/} and the {@code text_encoder/} weights of {@code snapshot} for {@code config} (read by
     * the caller from {@code text_encoder/config.json}), its linears quantized as {@code quantization} says, keeping
     * what it opens in {@code parts}.
     */
    public static QwenPromptEncoder load(DiffusersSnapshot snapshot, OrtRuntime runtime, PipelineParts parts,
            QwenDecoderConfig config, WeightQuantization quantization, PromptTemplate template,
            Consumer<String> stage) {
        stage.accept("tokenizer");
        ByteLevelBpeTokenizer tokenizer = ByteLevelBpeTokenizer.load(snapshot.componentDir("tokenizer"));
        stage.accept("text encoder");
        config.checkTokenizer(tokenizer);
        WeightStore weights = parts.weights(snapshot.weights("text_encoder"));
        ModelSession session = parts.own(runtime.createSession(
                new QwenTextEncoder(config).build(runtime.device().target(), weights, quantization), weights));
        return new QwenPromptEncoder(runtime, tokenizer, config, session, template);
    }

    public QwenDecoderConfig config() {
        return config;
    }

    public ByteLevelBpeTokenizer tokenizer() {
        return tokenizer;
    }

    /** The rows of {@code prompt} (cached by prompt). */
    public Rows encode(String prompt) {
        return cache.get(prompt, this::run);
    }

    private Rows run(String prompt) {
        long[] ids = template.templateIds(tokenizer, prompt);
        int len = ids.length;
        long[] mask = new long[len];
        Arrays.fill(mask, 1L);
        QwenTextInputs.Rope rope = config.rope(len);
        float[] bias = QwenTextInputs.attentionBias(mask, 1, len);
        try (OnnxTensor idTensor = Tensors.longs(runtime.env(), ids, 1, len);
                OnnxTensor cos = Tensors.of(runtime.env(), DType.FLOAT32, rope.cos(), len, config.headDim());
                OnnxTensor sin = Tensors.of(runtime.env(), DType.FLOAT32, rope.sin(), len, config.headDim());
                OnnxTensor biasTensor = Tensors.of(runtime.env(), DType.FLOAT32, bias, 1, 1, len, len);
                OrtSession.Result r = session.run(Map.of(QwenTextEncoder.INPUT_IDS, idTensor, QwenTextEncoder.COS,
                        cos, QwenTextEncoder.SIN, sin, QwenTextEncoder.ATTENTION_BIAS, biasTensor))) {
            float[] rows = template.select(Tensors.floats(r.get(0)), mask, config.hiddenSize(),
                    PromptTemplate.DEFAULT_MAX_SEQUENCE_LENGTH);
            return new Rows(rows, rows.length / config.hiddenSize());
        } catch (OrtException e) {
            throw new IllegalStateException("text encoder failed: " + e.getMessage(), e);
        }
    }
}
