package dev.ditfn.engine;

import java.time.Instant;
import java.util.function.IntConsumer;

/**
 * One request's deadline, cancellation and progress, checked by the denoising loop between steps. Cancelling is
 * thread-safe (a disconnect handler may call it while the loop runs).
 */
public final class RequestContext {
    private final Instant deadline;
    private final IntConsumer progress;
    private volatile boolean cancelled;

    /**
     * @param deadline when to give up (null: never)
     * @param progress hears the number of steps done after each step (null: nobody listens)
     */
    public RequestContext(Instant deadline, IntConsumer progress) {
        this.deadline = deadline;
        this.progress = progress;
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

    void stepDone(int stepsDone) {
        if (progress != null) {
            progress.accept(stepsDone);
        }
    }
}
