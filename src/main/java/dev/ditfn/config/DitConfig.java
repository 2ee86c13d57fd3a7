package dev.ditfn.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Optional;

/**
 * All dit-fn settings, under the {@code dit.} prefix. Per-target defaults live in
 * {@code config/application-<profile>.properties}; environment variables override single keys
 * ({@code DIT_DEVICE=cuda}). Invalid values stop startup naming the key and the allowed range.
 */
@ConfigMapping(prefix = "dit")
public interface DitConfig {

    /** cpu, cuda or cann. */
    @WithDefault("cpu")
    Device device();

    /** Accelerator index for cuda and cann. */
    @WithName("device-id")
    @WithDefault("0")
    @Min(0) @Max(63)
    int deviceId();

    /** When the device cannot be initialised: run on CPU (logged, reported in health) instead of failing. */
    @WithName("fallback-to-cpu")
    @WithDefault("false")
    boolean fallbackToCpu();

    /**
     * Let ORT repack GEMM weights into its own memory: faster on CPU (5-20% on linears) at the cost of one
     * anonymous copy of the weights; false computes straight from the memory-mapped files (zero copy).
     */
    @WithName("prepack-weights")
    @WithDefault("true")
    boolean prepackWeights();

    /**
     * The transformer's linear weights: none (as stored), int8 or int4 (symmetric block quantization computed at load,
     * run by ORT's com.microsoft MatMulNBits; cpu and cuda only). Embedders and the final layer stay full precision.
     */
    @WithDefault("none")
    Quantization quantization();

    /** Input features per quantization scale: 32, 64 or 128 (smaller: closer to full precision, more scales). */
    @WithName("quantization.block-size")
    @WithDefault("32")
    int quantizationBlockSize();

    /**
     * MatMulNBits' accuracy_level: 0 computes on the dequantized weights in the activation type; 4 also quantizes the
     * activations to int8 (CPU: faster int8 path, slightly less accurate).
     */
    @WithName("quantization.accuracy-level")
    @WithDefault("0")
    int quantizationAccuracyLevel();

    /**
     * The text encoder's linear weights (Qwen2.5-VL's or Qwen3's decoder layers), as {@code dit.quantization} for the
     * transformer: the same block size and accuracy level. Its token embedding stays full precision.
     */
    @WithName("quantization.text-encoder")
    @WithDefault("none")
    Quantization textEncoderQuantization();

    /**
     * Where quantized weights are kept between starts (unset: quantized again at every load). An entry is keyed by
     * the source file (path, size, modification time), the tensor and the quantization settings.
     */
    @WithName("quantization.cache-dir")
    Optional<String> quantizationCacheDir();

    /**
     * Whether a denoising step that computes both guidance branches runs them as one batch-2 forward, the shorter
     * prompt padded and masked (Qwen-Image families, under the none cache: a step cache keeps state per branch and
     * runs them one at a time). Measured faster on CPU (docs/benchmarks.md, "Batched guidance"); the gpu and ascend
     * profiles turn it off until it is measured on those devices.
     */
    @WithName("guidance.batched")
    @WithDefault("true")
    boolean batchedGuidance();

    /** Values of {@code dit.quantization} and {@code dit.quantization.text-encoder}. */
    enum Quantization {
        NONE(0), INT8(8), INT4(4);

        private final int bits;

        Quantization(int bits) {
            this.bits = bits;
        }

        public int bits() {
            return bits;
        }
    }

    Threads threads();

    Cuda cuda();

    Cann cann();

    Model model();

    Generate generate();

    Edit edit();

    Cache cache();

    Serving serving();

    /**
     * Step-cache defaults for every request (a request may override any of them under {@code "cache"}). Key names
     * and defaults are vLLM-Omni's, so configurations port over.
     */
    interface Cache {
        /** none, tea_cache or cache_dit. */
        @WithDefault("none")
        String backend();

        @WithName("rel_l1_thresh")
        @WithDefault("0.2")
        double relL1Thresh();

        /** TeaCache's rescale polynomial, 5 numbers, highest degree first; absent = the model family's. */
        Optional<List<Double>> coefficients();

        @WithName("force_last_step")
        @WithDefault("false")
        boolean forceLastStep();

        @WithName("Fn_compute_blocks")
        @WithDefault("1")
        int fnComputeBlocks();

        @WithName("Bn_compute_blocks")
        @WithDefault("0")
        int bnComputeBlocks();

        /**
         * More DBCache splits a request may choose, besides the configured Fn/Bn, as cache-dit names them
         * ({@code F8B0,F1B1}): the transformer's sessions are cut at each split's blocks at load.
         */
        @WithName("extra-splits")
        Optional<List<String>> extraSplits();

        @WithName("max_warmup_steps")
        @WithDefault("4")
        int maxWarmupSteps();

        @WithName("warmup_interval")
        @WithDefault("1")
        int warmupInterval();

        @WithName("max_cached_steps")
        @WithDefault("-1")
        int maxCachedSteps();

        @WithName("max_continuous_cached_steps")
        @WithDefault("3")
        int maxContinuousCachedSteps();

        @WithName("residual_diff_threshold")
        @WithDefault("0.24")
        double residualDiffThreshold();

        @WithName("max_accumulated_residual_diff_threshold")
        Optional<Double> maxAccumulatedResidualDiffThreshold();

        @WithName("enable_taylorseer")
        @WithDefault("false")
        boolean enableTaylorseer();

        @WithName("taylorseer_order")
        @WithDefault("1")
        int taylorseerOrder();

        /** none, slow, medium, fast, ultra, or custom (then scm_steps_mask). */
        @WithName("scm_steps_mask_policy")
        @WithDefault("none")
        String scmStepsMaskPolicy();

        @WithName("scm_steps_policy")
        @WithDefault("dynamic")
        String scmStepsPolicy();

        @WithName("scm_steps_mask")
        Optional<List<Integer>> scmStepsMask();

        /** Reset DBCache's continuous-cached counter on every compute (upstream resets it only when the limit trips). */
        @WithName("clean_continuous_counter")
        @WithDefault("false")
        boolean cleanContinuousCounter();
    }

    /** Input images of the {@code edit} function (Qwen-Image-Edit snapshots). */
    interface Edit {
        /** The area input images are resized to for the VAE (condition tokens); upstream's 1024². */
        @WithName("vae-image-area")
        @WithDefault("1048576")
        @Min(1024) @Max(16777216)
        long vaeImageArea();

        /** Edit Plus: the area of the vision encoder's image; upstream's 384². */
        @WithName("condition-image-area")
        @WithDefault("147456")
        @Min(1024) @Max(16777216)
        long conditionImageArea();

        /** Input images larger than this (from the header, before decoding) are refused. */
        @WithName("max-input-pixels")
        @WithDefault("40000000")
        @Min(1) @Max(1000000000)
        long maxInputPixels();

        /** The default output area when a request gives no size (upstream: the last input's ratio at 1024²). */
        @WithName("default-area")
        @WithDefault("1048576")
        @Min(256) @Max(16777216)
        long defaultArea();
    }

    /** Limits and defaults of the {@code generate} function. */
    interface Generate {
        /**
         * Width and height when the request gives neither size nor width/height. Absent: the model's own default
         * ({@code _dit_fn_defaults.size} in its {@code model_index.json}), else 256.
         */
        @WithName("default-size")
        Optional<@Min(16) @Max(4096) Integer> defaultSize();

        @WithName("min-size")
        @WithDefault("16")
        @Min(16) @Max(4096)
        int minSize();

        @WithName("max-size")
        @WithDefault("2048")
        @Min(16) @Max(8192)
        int maxSize();

        /** Overrides the model family's default (Qwen-Image 50, Z-Image-Turbo 8). */
        @WithName("default-steps")
        Optional<@Min(1) @Max(1000) Integer> defaultSteps();

        @WithName("max-steps")
        @WithDefault("200")
        @Min(1) @Max(1000)
        int maxSteps();

        /** Images per request (OpenAI's n). */
        @WithName("max-images")
        @WithDefault("4")
        @Min(1) @Max(64)
        int maxImages();

        /** Overrides the model family's default (Qwen-Image 4.0, Z-Image-Turbo 0: guidance off). */
        @WithName("default-true-cfg-scale")
        Optional<@DecimalMin("0") @DecimalMax("100") Double> defaultTrueCfgScale();

        @WithName("max-prompt-chars")
        @WithDefault("8000")
        @Min(1) @Max(1000000)
        int maxPromptChars();
    }

    interface Threads {
        /** Global intra-op pool size; 0 lets ORT use one thread per physical core. */
        @WithName("intra-op")
        @WithDefault("0")
        @Min(0) @Max(1024)
        int intraOp();

        /** Global inter-op pool size (parallel branches of a graph). */
        @WithName("inter-op")
        @WithDefault("1")
        @Min(1) @Max(64)
        int interOp();

        /**
         * Whether the pool's threads spin briefly for the next parallel section instead of sleeping: on CPU the
         * uncached bench-preset image is 1.14x faster with it (docs/benchmarks.md, "CPU runtime").
         */
        @WithDefault("true")
        boolean spin();
    }

    interface Cuda {
        /** Extra CUDA EP options passed through as-is, e.g. {@code gpu_mem_limit}, {@code cudnn_conv_algo_search}. */
        Map<String, String> options();
    }

    interface Cann {
        /** A CANN plugin execution-provider library to register ({@code registerExecutionProviderLibrary}). */
        @WithName("provider-library")
        Optional<String> providerLibrary();

        /** The EP name the plugin library registers devices under. */
        @WithName("ep-name")
        @WithDefault("CANNExecutionProvider")
        @NotBlank
        String epName();

        /** CANN EP options, e.g. {@code npu_mem_limit}, {@code precision_mode}, {@code enable_cann_graph}. */
        Map<String, String> options();
    }

    interface Model {
        /** A diffusers snapshot directory. Absent: the embedded default model is generated and served. */
        Optional<String> path();

        /** Where the embedded default model is generated (once) and reused. */
        @WithName("cache-dir")
        @WithDefault("${user.home}/.cache/dit-fn")
        @NotBlank
        String cacheDir();
    }

    interface Serving {
        /**
         * On SIGTERM, how long requests already running may take to finish before the process exits anyway
         * (ISO-8601, e.g. PT10M). New requests get 503 and readiness is DOWN meanwhile.
         */
        @WithName("drain-timeout")
        @WithDefault("PT10M")
        Duration drainTimeout();

        /**
         * Bearer keys (comma-separated; from a Secret in deployments): when set, every function and /v1 request
         * needs {@code Authorization: Bearer <one of them>}, else 401. Health and metrics stay open.
         */
        @WithName("api-keys")
        Optional<List<String>> apiKeys();

        /**
         * Requests that run on the model at once; the rest wait in the queue. Keep it equal to Knative's
         * {@code containerConcurrency}.
         */
        @WithName("max-concurrent")
        @WithDefault("1")
        @Min(1)
        @Max(64)
        int maxConcurrent();

        /** Requests that may wait for a slot; past this, HTTP 429 with Retry-After. */
        @WithName("max-queued")
        @WithDefault("4")
        @Min(0)
        @Max(1024)
        int maxQueued();

        /**
         * How long a request may take, queueing included (ISO-8601); past it, its work stops (between denoising
         * steps, or inside the model call in progress) and it gets 504. Keep it under Knative's timeoutSeconds.
         */
        @WithName("request-timeout")
        @WithDefault("PT5M")
        Duration requestTimeout();
    }
}
