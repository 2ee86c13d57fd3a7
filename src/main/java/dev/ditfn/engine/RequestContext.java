package dev.ditfn.engine;

import java.time.Instant;
import java.util.function.IntConsumer;

/**
 * One request's deadline, cancellation, progress and previews, checked by the denoising loop between steps.
 * Cancelling is thread-safe (a disconnect handler may call it while the loop runs).
 */
public final class RequestContext {
    private final Instant deadline;
    private final IntConsumer progress;
    private final PreviewListener previews;
    private volatile boolean cancelled;

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
    public RequestContext(Instant deadline, IntConsumer progress) {
        this(deadline, progress, null);
    }

    /** @param previews hears previews at the steps it wants (null: none are decoded) */
    public RequestContext(Instant deadline, IntConsumer progress, PreviewListener previews) {
        this.deadline = deadline;
        this.progress = progress;
        this.previews = previews;
    }

    /** No deadline, no listener: warm-ups, benchmarks and tests. */
    public static RequestContext unbounded() {
        return new RequestContext(null, null);
    }

    public void cancel() {
        cancelled = true;
    }

    /** Throws when the request was cancelled or its deadline passed. */
    public void checkpoint() {
        if (cancelled) {
            throw new RequestAbortedException(RequestAbortedException.Reason.CANCELLED, "the request was cancelled");
        }
        if (deadline != null && Instant.now().isAfter(deadline)) {
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

    void stepDone(int stepsDone) {
        if (progress != null) {
            progress.accept(stepsDone);
        }
    }
}
