package dev.ditfn.cache.cachedit;

import dev.ditfn.cache.ResidualPredictor;

/**
 * cache-dit v1.3.0's TaylorSeer calibrator for one branch and stream ({@code calibrators/taylorseer.py},
 * {@code TaylorSeerState}; spec §2.6). Keeps {@code order + 1} terms {@code D_0..D_order} from the computed steps
 * and extrapolates {@code Ŷ = Σ D_i·e^i/i!} with {@code e} in step indices since the last update.
 *
 * <ul>
 * <li>The state comes to life at the first {@link #update} with {@code current_step = -1}, as upstream creates it
 * lazily there: {@link #stepBegin()} calls before the first update do nothing. So {@code current_step} lags the
 * branch's step index by one, and because of the {@code current_step > 1} guard the first derivative only appears
 * at the update of the fourth step.</li>
 * <li>Update: {@code w = current_step − last_update_step}, {@code D_0 = Y}; for {@code i < order}, if the previous
 * {@code D_i} exists and {@code current_step > 1}, {@code D_{i+1} = (D_i − D_i_prev)/w} (the latest gap only, even
 * for order 2), else stop; then the current terms become the previous ones and
 * {@code last_update_step = current_step}.</li>
 * <li>A residual of another size than the previous {@code D_0} resets everything, the step counter included
 * ({@code current_step = last_update_step = -1}), and keeps only {@code D_0 = Y}.</li>
 * <li>Arithmetic in float, in upstream's operation order for fp32 tensors.</li>
 * </ul>
 */
public final class TaylorSeerPredictor implements ResidualPredictor {
    private final int order;
    private boolean started;
    private int currentStep = -1;
    private int lastUpdateStep = -1;
    private float[][] prev;
    private float[][] current;
    private boolean updatedThisStep;

    /** @param order {@code taylorseer_order}, the number of derivatives (1 or 2; higher works as upstream) */
    public TaylorSeerPredictor(int order) {
        if (order < 1) {
            throw new IllegalArgumentException("taylorseer_order must be >= 1, got " + order);
        }
        this.order = order;
        this.prev = new float[order + 1][];
        this.current = new float[order + 1][];
    }

    public int order() {
        return order;
    }

    /** The calibrator's {@code current_step}: -1 until the first update, then advanced by every step begin. */
    public int currentStep() {
        return currentStep;
    }

    public int lastUpdateStep() {
        return lastUpdateStep;
    }

    /** The highest derivative currently held (0 = only the value). */
    public int availableOrder() {
        int k = -1;
        while (k + 1 <= order && current[k + 1] != null) {
            k++;
        }
        return k;
    }

    @Override
    public void stepBegin() {
        if (started) {
            currentStep++;
        }
        updatedThisStep = false;
    }

    @Override
    public void update(float[] residual) {
        if (updatedThisStep) {
            throw new IllegalStateException("update called twice without stepBegin()");
        }
        if (!started) {
            started = true;
            currentStep = -1;
            lastUpdateStep = -1;
        }
        updatedThisStep = true;
        float[][] next = new float[order + 1][];
        next[0] = residual.clone();
        prev = current;
        int window = currentStep - lastUpdateStep;
        if (prev[0] != null && prev[0].length != residual.length) {
            prev = new float[order + 1][];
            current = new float[order + 1][];
            currentStep = -1;
            lastUpdateStep = -1;
        }
        for (int i = 0; i < order; i++) {
            if (prev[i] != null && currentStep > 1) {
                float[] a = next[i];
                float[] b = prev[i];
                float[] d = new float[a.length];
                float w = window;
                for (int j = 0; j < d.length; j++) {
                    d[j] = (a[j] - b[j]) / w;
                }
                next[i + 1] = d;
            } else {
                break;
            }
        }
        current = next;
        lastUpdateStep = currentStep;
    }

    @Override
    public float[] predict() {
        if (current[0] == null) {
            throw new IllegalStateException("no residual stored yet");
        }
        int elapsed = currentStep - lastUpdateStep;
        float[] out = new float[current[0].length];
        double factorial = 1;
        long power = 1;
        for (int i = 0; i <= order && current[i] != null; i++) {
            if (i > 0) {
                factorial *= i;
                power *= elapsed;
            }
            float c = (float) (1.0 / factorial);
            float p = (float) power;
            float[] d = current[i];
            for (int j = 0; j < out.length; j++) {
                out[j] += c * d[j] * p;
            }
        }
        return out;
    }
}
