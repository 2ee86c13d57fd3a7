package dev.ditfn.cache.cachedit;

import dev.ditfn.cache.ResidualPredictor;

/** Plain DBCache (TaylorSeer off): a cached step reuses the residual of the last computed step. */
public final class StoredResidualPredictor implements ResidualPredictor {
    private float[] stored;

    @Override
    public void stepBegin() {
    }

    @Override
    public void update(float[] residual) {
        stored = residual.clone();
    }

    @Override
    public float[] predict() {
        if (stored == null) {
            throw new IllegalStateException("no residual stored yet");
        }
        return stored.clone();
    }
}
