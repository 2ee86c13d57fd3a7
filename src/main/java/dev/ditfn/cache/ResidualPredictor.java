package dev.ditfn.cache;

/**
 * What a cached step injects in place of the skipped blocks' residual. One instance per branch and stream, fresh per
 * request. The runner calls {@link #stepBegin()} once per step of its branch (computed or cached), then either
 * {@link #update} with the residual it just computed or {@link #predict} to get one.
 */
public interface ResidualPredictor {

    void stepBegin();

    void update(float[] residual);

    /** @throws IllegalStateException when nothing was stored yet */
    float[] predict();
}
