package dev.ditfn.engine;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** A small LRU cache of prompt embeddings: repeated prompts (and the common negative prompt) skip the text encoder. */
public final class PromptCache<V> {
    private final Map<String, V> entries;

    public PromptCache(int capacity) {
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > capacity;
            }
        };
    }

    /** The cached value, or {@code compute}'s (computed outside the lock, so encoders run concurrently). */
    public V get(String prompt, Function<String, V> compute) {
        synchronized (entries) {
            V hit = entries.get(prompt);
            if (hit != null) {
                return hit;
            }
        }
        V value = compute.apply(prompt);
        synchronized (entries) {
            entries.put(prompt, value);
        }
        return value;
    }
}
