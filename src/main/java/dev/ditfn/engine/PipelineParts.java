package dev.ditfn.engine;

import dev.ditfn.weights.WeightStore;

import java.util.ArrayList;
import java.util.List;

/**
 * The mapped weights and the sessions a pipeline loads, closed together. A load that fails part-way closes what it
 * had opened ({@link #close()} from its catch block), so a broken snapshot leaks nothing.
 */
public final class PipelineParts implements AutoCloseable {
    private final List<WeightStore> stores = new ArrayList<>();
    private final List<AutoCloseable> owned = new ArrayList<>();

    /** Keeps {@code store} (closed last). */
    public WeightStore weights(WeightStore store) {
        stores.add(store);
        return store;
    }

    /** Keeps {@code part} (a session or a segmented transformer), closed before the weights. */
    public <T extends AutoCloseable> T own(T part) {
        owned.add(part);
        return part;
    }

    public int tensorCount() {
        return stores.stream().mapToInt(w -> w.names().size()).sum();
    }

    public long weightBytes() {
        return stores.stream().mapToLong(WeightStore::byteSize).sum();
    }

    @Override
    public void close() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort: the remaining parts must still be released
            }
        }
        stores.forEach(WeightStore::close);
    }
}
