package dev.ditfn.cache;

import dev.ditfn.dit.SegmentPartition;

/**
 * What step-cache settings are checked against: the transformer's segment partition (DBCache's Fn/Bn must fall on
 * its boundaries) and the model family's default TeaCache rescale coefficients.
 */
public record CacheTarget(SegmentPartition partition, double[] teaCacheCoefficients) {

    public int blocks() {
        return partition.blocks();
    }
}
