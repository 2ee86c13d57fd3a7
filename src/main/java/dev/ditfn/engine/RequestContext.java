package dev.ditfn.engine;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.ditfn.runtime.ModelSession;

import java.time.Instant;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One request's deadline, cancellation, progress and previews, checked by the denoising loop between steps.
 * Cancelling is thread-safe (a disconnect handler may call it while the loop runs) and also stops the model call in
 * progress when the work runs under {@link #call}.
 */
public final class RequestContext {
    private final Instant deadline;
    private final Progress progress;
    /** The current step's cache decision per guidance branch ("computed" or "cached"), for the progress event. */
    private final Map<String, String> decisions = new java.util.concurrent.ConcurrentSkipListMap<>();
    private final PreviewListener previews;
    private volatile boolean cancelled;
    private volatile long cancelledAtNanos;
    /** The ORT run options of the work under {@link #call}; guarded by {@code this}. */
    private OrtSession.RunOptions runOptions;
    private boolean terminated;

    /** Hears each finished step: how many are done, and per guidance branch whether it was computed or cached. */
    @FunctionalInterface
    public interface Progress {
        void stepDone(int stepsDone, Map<String, String> decisions);
    }

    /** Hears the clean image predicted at chosen steps (streamed partial images), encoded as the final one. */
    public interface PreviewListener {
        /** Whether a preview is wanted once {@code stepsDone} of {@code steps} steps are done. */
        boolean wants(int stepsDone, int steps);

        void preview(int stepsDone, byte[] encoded);
    }

    /**
     * @param deadline when to give up (null: never)
     * @param progress hears the number of steps done after each step (null: nobody listens)
     */
    public RequestContext(Instant deadline, Progress progress) {
        this(deadline, progress, null);
    }

    /** @param previews hears previews at the steps it wants (null: none are decoded) */
    public RequestContext(Instant deadline, Progress progress, PreviewListener previews) {
        this.deadline = deadline;
        this.progress = progress;
        this.previews = previews;
    }

    /** No deadline, no listener: warm-ups, benchmarks and tests. */
    public static RequestContext unbounded() {
        return new RequestContext(null, null);
    }

    public Instant deadline() {
        return deadline;
    }

    /** Stops the work: at the next checkpoint, or at once inside a model call. */
    public void cancel() {
        if (!cancelled) {
            cancelledAtNanos = System.nanoTime();
            cancelled = true;
        }
        terminate();
    }

    public boolean cancelled() {
        return cancelled;
    }

    /** {@link System#nanoTime()} when {@link #cancel} was first called; meaningful only once cancelled. */
    public long cancelledAtNanos() {
        return cancelledAtNanos;
    }

    /** Stops the model call in progress once the deadline has passed (a timer calls this at the deadline). */
    public void enforceDeadline() {
        if (deadline != null && !Instant.now().isBefore(deadline)) {
            terminate();
        }
    }

    /** Throws when the request was cancelled or its deadline passed. */
    public void checkpoint() {
        if (cancelled) {
            throw new RequestAbortedException(RequestAbortedException.Reason.CANCELLED, "the request was cancelled");
        }
        if (deadline != null && !Instant.now().isBefore(deadline)) {
            throw new RequestAbortedException(RequestAbortedException.Reason.DEADLINE,
                    "the request passed its deadline " + deadline);
        }
    }

    boolean wantsPreview(int stepsDone, int steps) {
        return previews != null && previews.wants(stepsDone, steps);
    }

    void preview(int stepsDone, byte[] encoded) {
        previews.preview(stepsDone, encoded);
    }

    /**
     * Runs {@code work} on this thread with every model call terminable by {@link #cancel} and
     * {@link #enforceDeadline}. A model call stopped that way fails with ORT's own error, which is reported as the
     * {@link RequestAbortedException} it stands for.
     */
    public <T> T call(Supplier<T> work) {
        checkpoint();
        try (OrtSession.RunOptions options = new OrtSession.RunOptions()) {
            synchronized (this) {
                runOptions = options;
                if (terminated) {
                    options.setTerminate(true);
                }
            }
            try {
                return ModelSession.withRunOptions(options, work);
            } catch (RuntimeException e) {
                try {
                    checkpoint();
                } catch (RequestAbortedException aborted) {
                    aborted.initCause(e);
                    throw aborted;
                }
                throw e;
            } finally {
                synchronized (this) {
                    runOptions = null;
                }
            }
        } catch (OrtException e) {
            throw new IllegalStateException("cannot create ORT run options: " + e.getMessage(), e);
        }
    }

    private synchronized void terminate() {
        terminated = true;
        if (runOptions != null) {
            try {
                runOptions.setTerminate(true);
            } catch (OrtException e) {
                throw new IllegalStateException("cannot terminate the model call: " + e.getMessage(), e);
            }
        }
    }

    /** A step cache's decision on {@code branch} at the current step ({@code cached}: a residual was reused). */
    public void cacheDecided(String branch, boolean cached) {
        decisions.put(branch, cached ? "cached" : "computed");
    }

    void stepDone(int stepsDone) {
        if (progress != null) {
            progress.stepDone(stepsDone, java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(decisions)));
        }
        decisions.clear();
    }
}
