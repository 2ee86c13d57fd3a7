package dev.ditfn.engine;

import dev.ditfn.cache.Branch;

import java.util.List;
import java.util.Map;

/** How a step's branch predictions combine into one velocity; which branches it needs. */
public interface Guidance {

    /** The branches to predict at every step, {@code cond} first. */
    List<Branch> branches();

    /** The guided velocity from one prediction per branch of {@link #branches()}. */
    float[] combine(Map<Branch, float[]> predictions);

    /** No guidance: the conditional prediction as is. */
    Guidance NONE = new Guidance() {
        @Override
        public List<Branch> branches() {
            return List.of(Branch.cond);
        }

        @Override
        public float[] combine(Map<Branch, float[]> predictions) {
            return predictions.get(Branch.cond);
        }
    };
}
