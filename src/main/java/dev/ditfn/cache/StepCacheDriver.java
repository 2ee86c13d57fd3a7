package dev.ditfn.cache;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import dev.ditfn.cache.cachedit.DbCacheConfig;
import dev.ditfn.cache.cachedit.DbCachePolicy;
import dev.ditfn.cache.cachedit.Predictors;
import dev.ditfn.cache.teacache.TeaCachePolicy;
import dev.ditfn.dit.SegmentedTransformer;
import dev.ditfn.dit.TransformerPass;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A step cache over any {@link SegmentedTransformer}, for one image of one request: the cache's model shape (which
 * segments run, which streams are compared and reused). Policies and predictors come from the backend packages;
 * their state lives here, per guidance branch, and dies with this object.
 *
 * <ul>
 *   <li>none: prologue, every block, epilogue;</li>
 *   <li>tea_cache: prologue (+ probe) | blocks [0, N) or the stored residual | epilogue; the residual is kept as an
 *       ORT tensor of the streams the epilogue reads and added inside ORT;</li>
 *   <li>cache_dit: prologue | Fn blocks | middle blocks or the predicted residual | Bn blocks + epilogue; without
 *       Bn blocks only the streams the epilogue reads carry a residual.</li>
 * </ul>
 */
public final class StepCacheDriver implements AutoCloseable {
    private final SegmentedTransformer transformer;
    private final CacheSettings settings;
    private final int steps;
    private final int blocks;
    private final List<String> streams;
    private final CacheStats stats;
    private final Map<Branch, BranchState> branches = new EnumMap<>(Branch.class);
    private final BlockObserver observer;
    private final DecisionListener decisions;
    private double blockMillis;

    /**
     * Sees what the tea_cache path computes, for fitting TeaCache's rescale polynomial (the {@code calibrate}
     * command runs tea_cache with {@code rel_l1_thresh} 0, so every step computes and nothing is reused).
     */
    @FunctionalInterface
    public interface BlockObserver {
        /** Called on each computed step of {@code branch}: the probe and the primary stream after every block. */
        void computed(Branch branch, int step, float[] modulatedInput, float[] blockStackOutput);
    }

    /** Hears each step's decision per branch, as it is made (a progress display's "computed or cached"). */
    @FunctionalInterface
    public interface DecisionListener {
        void decided(Branch branch, int step, boolean cached);
    }

    /** {@code observer} (may be null) hears every computed step of the tea_cache path. */
    public StepCacheDriver(SegmentedTransformer transformer, CacheSettings settings, int steps,
            BlockObserver observer) {
        this(transformer, settings, steps, observer, null);
    }

    /** ... and {@code decisions} (may be null) every step's decision. */
    public StepCacheDriver(SegmentedTransformer transformer, CacheSettings settings, int steps,
            BlockObserver observer, DecisionListener decisions) {
        this.transformer = transformer;
        this.settings = settings;
        this.steps = steps;
        this.blocks = transformer.blocks();
        this.streams = transformer.streams();
        this.stats = new CacheStats(blocks);
        this.observer = observer;
        this.decisions = decisions;
    }

    public CacheStats stats() {
        return stats;
    }

    /** Wall time of the block segments run so far, over every call and branch. */
    public double blockMillis() {
        return blockMillis;
    }

    /**
     * The velocity of {@code branch} at denoising step {@code step}; {@code inputs} are the transformer's model
     * inputs for this call (latent tokens, timestep, the branch's conditioning).
     */
    public float[] velocity(Branch branch, int step, float sigma, Map<String, ? extends OnnxTensorLike> inputs)
            throws OrtException {
        try (TransformerPass pass = transformer.pass(inputs)) {
            float[] velocity = switch (settings.backend()) {
                case CacheSettings.TEA_CACHE -> teaCache(state(branch), branch, step, sigma, pass);
                case CacheSettings.CACHE_DIT -> dbCache(state(branch), branch, step, sigma, pass);
                default -> {
                    record(step, sigma, branch, Decision.compute("disabled"), blocks);
                    yield pass.forward();
                }
            };
            blockMillis += pass.blockMillis();
            return velocity;
        }
    }

    /**
     * Whether the guidance branches may run as one batch ({@link #velocities}): only without a cache, where every
     * step computes every branch and no branch keeps state.
     */
    public boolean batchesBranches() {
        return settings.backend().equals(CacheSettings.NONE);
    }

    /**
     * The velocities of {@code branches} at step {@code step} from one forward over a batch: {@code inputs} hold one
     * batch row per branch, in the order of {@code branches}. Each branch's step is recorded as computed, as
     * {@link #velocity} would. Only where {@link #batchesBranches()}.
     */
    public float[][] velocities(List<Branch> branches, int step, float sigma,
            Map<String, ? extends OnnxTensorLike> inputs) throws OrtException {
        if (!batchesBranches()) {
            throw new IllegalStateException("the " + settings.backend() + " cache runs one branch at a time");
        }
        float[] all;
        try (TransformerPass pass = transformer.pass(inputs)) {
            all = pass.forward();
            blockMillis += pass.blockMillis();
        }
        if (all.length % branches.size() != 0) {
            throw new IllegalStateException(all.length + " velocity values do not split into " + branches.size()
                    + " branches");
        }
        int each = all.length / branches.size();
        float[][] out = new float[branches.size()][];
        for (int i = 0; i < out.length; i++) {
            record(step, sigma, branches.get(i), Decision.compute("disabled"), blocks);
            out[i] = java.util.Arrays.copyOfRange(all, i * each, (i + 1) * each);
        }
        return out;
    }

    private BranchState state(Branch b) {
        return branches.computeIfAbsent(b, k -> new BranchState());
    }

    /** Per-branch cache state, fresh for every request; only the running backend's policy exists. */
    private final class BranchState {
        final TeaCachePolicy tea = settings.backend().equals(CacheSettings.TEA_CACHE)
                ? new TeaCachePolicy(settings.teaCache(), steps) : null;
        // the SCM mask is only built (and checked against the step count) when cache_dit runs
        final DbCachePolicy db = settings.backend().equals(CacheSettings.CACHE_DIT)
                ? new DbCachePolicy(settings.dbCache(), settings.dbCache().stepsMask(steps)) : null;
        final Map<String, ResidualPredictor> predictors = new HashMap<>();
        /** The block stack's residual per stream the epilogue reads, from the last computed step; owned here. */
        final Map<String, OnnxTensor> teaResiduals = new HashMap<>();

        ResidualPredictor predictor(String stream) {
            return predictors.computeIfAbsent(stream, s -> Predictors.predictor(settings.dbCache()));
        }

        void storeTeaResidual(String stream, OnnxTensor residual) {
            OnnxTensor old = teaResiduals.put(stream, residual);
            if (old != null) {
                old.close();
            }
        }
    }

    /** Releases the residuals kept in ORT tensors. */
    @Override
    public void close() {
        for (BranchState s : branches.values()) {
            s.teaResiduals.values().forEach(OnnxTensor::close);
            s.teaResiduals.clear();
        }
    }

    private float[] teaCache(BranchState s, Branch branch, int step, float sigma, TransformerPass pass)
            throws OrtException {
        float[] probe = pass.prologue(true);
        Decision d = s.tea.decide(step, probe);
        // only what the epilogue reads: other streams (Qwen-Image's text) end with the block stack
        List<String> reused = transformer.epilogueStreams();
        if (d.cache()) {
            for (String name : reused) {
                pass.addToStream(name, s.teaResiduals.get(name));
            }
        } else {
            Map<String, float[]> before = read(pass, reused);
            pass.blocks(0, blocks);
            for (String name : reused) {
                float[] after = pass.stream(name);
                s.storeTeaResidual(name, pass.tensorLike(name, sub(after, before.get(name))));
                if (observer != null && name.equals(streams.get(0))) {
                    observer.computed(branch, step, probe, after);
                }
            }
        }
        record(step, sigma, branch, d, d.cache() ? 0 : blocks);
        return pass.epilogue();
    }

    private float[] dbCache(BranchState s, Branch branch, int step, float sigma, TransformerPass pass)
            throws OrtException {
        DbCacheConfig c = settings.dbCache();
        int fn = c.fnComputeBlocks();
        int tail = blocks - c.bnComputeBlocks();
        String primary = streams.get(0);
        // what runs after the middle blocks reads: the Bn blocks every stream, the epilogue alone fewer
        List<String> reused = c.bnComputeBlocks() > 0 ? streams : transformer.epilogueStreams();
        pass.prologue(false);
        float[] h0 = pass.stream(primary);
        pass.blocks(0, fn);
        Map<String, float[]> front = read(pass, reused);
        for (String name : reused) {
            s.predictor(name).stepBegin();
        }
        Decision d = s.db.decide(step, sub(front.get(primary), h0));
        if (d.cache()) {
            for (String name : reused) {
                pass.replaceStream(name, add(front.get(name), s.predictor(name).predict()));
            }
        } else {
            pass.blocks(fn, tail);
            for (String name : reused) {
                s.predictor(name).update(sub(pass.stream(name), front.get(name)));
            }
        }
        pass.blocks(tail, blocks);
        record(step, sigma, branch, d, d.cache() ? fn + c.bnComputeBlocks() : blocks);
        return pass.epilogue();
    }

    private void record(int step, float sigma, Branch branch, Decision d, int blocksRun) {
        stats.record(step, sigma, branch, d, blocksRun);
        if (decisions != null) {
            decisions.decided(branch, step, d.cache());
        }
    }

    private static Map<String, float[]> read(TransformerPass pass, List<String> names) {
        Map<String, float[]> out = new HashMap<>();
        for (String name : names) {
            out.put(name, pass.stream(name));
        }
        return out;
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
