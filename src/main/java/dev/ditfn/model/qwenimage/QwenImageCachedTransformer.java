package dev.ditfn.model.qwenimage;

import ai.onnxruntime.OrtException;
import dev.ditfn.cache.Branch;
import dev.ditfn.cache.CacheSettings;
import dev.ditfn.cache.CacheStats;
import dev.ditfn.cache.Decision;
import dev.ditfn.cache.ResidualPredictor;
import dev.ditfn.cache.cachedit.DbCacheConfig;
import dev.ditfn.cache.cachedit.DbCachePolicy;
import dev.ditfn.cache.cachedit.Predictors;
import dev.ditfn.cache.teacache.TeaCachePolicy;
import dev.ditfn.dit.TransformerSegment;

import java.util.EnumMap;
import java.util.Map;

/**
 * The Qwen-Image transformer under a step cache, for one image of one request: the cache's model shape (which
 * segments run, which stream tensors are compared and reused). Policies and predictors come from {@code cache/};
 * their state lives here, per guidance branch, and dies with this object.
 *
 * <ul>
 *   <li>none: the monolithic graph, exactly as without caching;</li>
 *   <li>tea_cache: prologue (+ block 0's modulated input) | blocks [0, N) or the stored residual | epilogue;</li>
 *   <li>cache_dit: prologue | Fn blocks | middle blocks or the predicted residual | Bn blocks + epilogue.</li>
 * </ul>
 */
public final class QwenImageCachedTransformer {
    private final QwenImageTransformerRunner runner;
    private final CacheSettings settings;
    private final int steps;
    private final int blocks;
    private final CacheStats stats;
    private final Map<Branch, BranchState> branches = new EnumMap<>(Branch.class);
    private final BlockObserver observer;

    /**
     * Sees what the tea_cache path computes, for fitting TeaCache's rescale polynomial (the {@code calibrate}
     * command runs tea_cache with {@code rel_l1_thresh} 0, so every step computes and nothing is reused).
     */
    @FunctionalInterface
    public interface BlockObserver {
        /**
         * Called on each computed step of {@code branch}: block 0's modulated image input and the image stream
         * after the whole block stack.
         */
        void computed(Branch branch, int step, float[] modulatedInput, float[] blockStackOutput);
    }

    public QwenImageCachedTransformer(QwenImageTransformerRunner runner, CacheSettings settings, int steps) {
        this(runner, settings, steps, null);
    }

    /** {@code observer} (may be null) hears every computed step of the tea_cache path. */
    public QwenImageCachedTransformer(QwenImageTransformerRunner runner, CacheSettings settings, int steps,
            BlockObserver observer) {
        this.observer = observer;
        this.runner = runner;
        this.settings = settings;
        this.steps = steps;
        this.blocks = runner.blocks();
        this.stats = new CacheStats(blocks);
    }

    public CacheStats stats() {
        return stats;
    }

    /** The velocity of {@code branch} at denoising step {@code step}. */
    public float[] forward(Branch branch, int step, float sigma, float[] latents,
            QwenImageTransformerRunner.Conditioning cond) throws OrtException {
        return switch (settings.backend()) {
            case CacheSettings.TEA_CACHE -> teaCache(state(branch), branch, step, sigma, latents, cond);
            case CacheSettings.CACHE_DIT -> dbCache(state(branch), branch, step, sigma, latents, cond);
            default -> {
                stats.record(step, sigma, branch, Decision.compute("disabled"), blocks);
                yield runner.forward(latents, sigma, cond);
            }
        };
    }

    private BranchState state(Branch b) {
        return branches.computeIfAbsent(b, k -> new BranchState());
    }

    /** Per-branch cache state, fresh for every request. */
    private final class BranchState {
        final TeaCachePolicy tea = new TeaCachePolicy(settings.teaCache(), steps);
        // only cache_dit's SCM mask is checked against the step count: other backends have none to build
        final DbCachePolicy db = settings.backend().equals(CacheSettings.CACHE_DIT)
                ? new DbCachePolicy(settings.dbCache(), settings.dbCache().stepsMask(steps)) : null;
        final ResidualPredictor img = Predictors.predictor(settings.dbCache());
        final ResidualPredictor txt = Predictors.predictor(settings.dbCache());
        float[] teaImgResidual;
        float[] teaTxtResidual;
        boolean dbResidualStored;
    }


    private float[] teaCache(BranchState s, Branch branch, int step, float sigma, float[] latents,
            QwenImageTransformerRunner.Conditioning cond) throws OrtException {
        Map<String, float[]> head = runner.run(new TransformerSegment(0, 0, true, false, true), cond, latents, sigma,
                Map.of());
        Decision d = s.tea.decide(step, head.get("modulated_input"));
        float[] img;
        float[] txt;
        if (d.cache()) {
            img = add(head.get("img_out"), s.teaImgResidual);
            txt = add(head.get("txt_out"), s.teaTxtResidual);
        } else {
            Map<String, float[]> body = runner.run(new TransformerSegment(0, blocks, false, false, false), cond,
                    null, sigma, state(head.get("img_out"), head.get("txt_out"), head.get("temb_out")));
            img = body.get("img_out");
            txt = body.get("txt_out");
            s.teaImgResidual = sub(img, head.get("img_out"));
            s.teaTxtResidual = sub(txt, head.get("txt_out"));
            if (observer != null) {
                observer.computed(branch, step, head.get("modulated_input"), img);
            }
        }
        stats.record(step, sigma, branch, d, d.cache() ? 0 : blocks);
        return epilogue(blocks, cond, sigma, img, txt, head.get("temb_out"));
    }

    private float[] dbCache(BranchState s, Branch branch, int step, float sigma, float[] latents,
            QwenImageTransformerRunner.Conditioning cond) throws OrtException {
        DbCacheConfig c = settings.dbCache();
        int fn = c.fnComputeBlocks();
        int tail = blocks - c.bnComputeBlocks();
        Map<String, float[]> head = runner.run(new TransformerSegment(0, 0, true, false, false), cond, latents, sigma,
                Map.of());
        float[] temb = head.get("temb_out");
        Map<String, float[]> front = runner.run(new TransformerSegment(0, fn, false, false, false), cond, null, sigma,
                state(head.get("img_out"), head.get("txt_out"), temb));
        float[] imgF = front.get("img_out");
        float[] txtF = front.get("txt_out");
        s.img.stepBegin();
        s.txt.stepBegin();
        Decision d = s.db.decide(step, sub(imgF, head.get("img_out")));
        if (d.cache() && !s.dbResidualStored && tail > fn) {
            d = Decision.compute("no_residual"); // e.g. a static custom mask that starts with a cached step
        }
        float[] img;
        float[] txt;
        if (tail <= fn) { // no middle blocks: nothing to skip
            img = imgF;
            txt = txtF;
        } else if (d.cache()) {
            img = add(imgF, s.img.predict());
            txt = add(txtF, s.txt.predict());
        } else {
            Map<String, float[]> middle = runner.run(new TransformerSegment(fn, tail, false, false, false), cond,
                    null, sigma, state(imgF, txtF, temb));
            img = middle.get("img_out");
            txt = middle.get("txt_out");
            s.img.update(sub(img, imgF));
            s.txt.update(sub(txt, txtF));
            s.dbResidualStored = true;
        }
        stats.record(step, sigma, branch, d, d.cache() && tail > fn ? fn + c.bnComputeBlocks() : blocks);
        return epilogue(tail, cond, sigma, img, txt, temb);
    }

    /** Blocks {@code [from, N)} and the output head on the given stream state. */
    private float[] epilogue(int from, QwenImageTransformerRunner.Conditioning cond, float sigma, float[] img,
            float[] txt, float[] temb) throws OrtException {
        return runner.run(new TransformerSegment(from, blocks, false, true, false), cond, null, sigma,
                state(img, txt, temb)).get("velocity");
    }

    private static Map<String, float[]> state(float[] img, float[] txt, float[] temb) {
        return Map.of("img", img, "txt", txt, "temb", temb);
    }

    private static float[] add(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }

    private static float[] sub(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] - b[i];
        }
        return out;
    }
}
