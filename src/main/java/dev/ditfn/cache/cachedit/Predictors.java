package dev.ditfn.cache.cachedit;

import dev.ditfn.cache.ResidualPredictor;

/** Picks the residual predictor a {@link DbCacheConfig} asks for. */
public final class Predictors {
    private Predictors() {
    }

    /** A fresh {@link TaylorSeerPredictor} of {@code taylorseer_order} when TaylorSeer is on, else a stored one. */
    public static ResidualPredictor predictor(DbCacheConfig c) {
        return c.enableTaylorseer() ? new TaylorSeerPredictor(c.taylorseerOrder()) : new StoredResidualPredictor();
    }
}
