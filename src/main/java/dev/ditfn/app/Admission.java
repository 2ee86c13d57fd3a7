package dev.ditfn.app;

import dev.ditfn.config.DitConfig;
import dev.ditfn.engine.RequestAbortedException;
import dev.ditfn.engine.RequestContext;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;

/**
 * Admission control: at most {@code dit.serving.max-concurrent} requests hold the model at once, at most
 * {@code dit.serving.max-queued} wait for it (first come, first served), and any more are refused at once with a
 * retry estimate. A waiting request leaves the queue when it is cancelled or its deadline passes.
 */
@ApplicationScoped
public class Admission {
    private static final Logger LOG = Logger.getLogger(Admission.class);
    /** Weight of the newest request duration in the running estimate. */
    private static final double EWMA_ALPHA = 0.3;
    /** A cancelled waiter notices within this much; cancelling does not signal the queue. */
    private static final long WAIT_POLL_MS = 50;

    private final int maxConcurrent;
    private final int maxQueued;
    private final Counter rejected;
    private final Timer cancelToFree;
    private final Timer queueWait;

    private final Object lock = new Object();
    private int running;
    /** First come, first served: the head runs when a slot is free. */
    private final ArrayDeque<Object> waiters = new ArrayDeque<>();
    private double ewmaSeconds = Double.NaN;

    @Inject
    Admission(DitConfig config, MeterRegistry registry) {
        this(config.serving().maxConcurrent(), config.serving().maxQueued(), registry);
    }

    Admission(int maxConcurrent, int maxQueued, MeterRegistry registry) {
        this.maxConcurrent = maxConcurrent;
        this.maxQueued = maxQueued;
        Gauge.builder("dit.requests.in.flight", this, a -> a.counts()[0])
                .description("requests holding the model").register(registry);
        Gauge.builder("dit.queue.depth", this, a -> a.counts()[1])
                .description("requests waiting for the model").register(registry);
        rejected = Counter.builder("dit.requests.rejected").description("requests refused with 429: queue full")
                .register(registry);
        cancelToFree = Timer.builder("dit.cancel.release")
                .description("from a request's cancellation (client gone) to its slot being free").register(registry);
        queueWait = Timer.builder("dit.queue.wait").description("time admitted requests waited for a slot")
                .register(registry);
    }

    /** The queue is full; retry after this many seconds. */
    public static final class RejectedException extends RuntimeException {
        private final long retryAfterSeconds;

        RejectedException(String message, long retryAfterSeconds) {
            super(message);
            this.retryAfterSeconds = retryAfterSeconds;
        }

        public long retryAfterSeconds() {
            return retryAfterSeconds;
        }
    }

    /** A request's hold on the model; close it when the work is done (or abandoned). */
    public interface Slot extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Waits for a slot. Throws {@link RejectedException} when the queue is full, {@link RequestAbortedException} when
     * the request is cancelled or passes its deadline while waiting.
     */
    public Slot acquire(RequestContext context) {
        long waitStart = System.nanoTime();
        synchronized (lock) {
            boolean free = running < maxConcurrent && waiters.isEmpty();
            if (!free && waiters.size() >= maxQueued) {
                rejected.increment();
                long retry = retryAfterSeconds(running + waiters.size());
                throw new RejectedException("the server is busy: " + running + " running and " + waiters.size()
                        + " queued (at most " + maxQueued + "); retry after " + retry + " s", retry);
            }
            Object me = new Object();
            waiters.addLast(me);
            try {
                while (waiters.peekFirst() != me || running >= maxConcurrent) {
                    context.checkpoint();
                    lock.wait(waitMillis(context.deadline()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RequestAbortedException(RequestAbortedException.Reason.CANCELLED, "interrupted in queue");
            } finally {
                waiters.remove(me);
                // The next in line may be able to run now, whether this one got the slot or left.
                lock.notifyAll();
            }
            running++;
        }
        queueWait.record(Duration.ofNanos(System.nanoTime() - waitStart));
        long start = System.nanoTime();
        return new Slot() {
            private boolean closed;

            @Override
            public void close() {
                if (closed) {
                    return;
                }
                closed = true;
                long now = System.nanoTime();
                // Recorded before the slot frees: whoever sees the slot free also sees the record.
                if (context.cancelled()) {
                    Duration d = Duration.ofNanos(now - context.cancelledAtNanos());
                    cancelToFree.record(d);
                    LOG.infof("cancelled request freed its slot %.1f ms after the cancellation", d.toNanos() / 1e6);
                }
                synchronized (lock) {
                    running--;
                    double seconds = (now - start) / 1e9;
                    ewmaSeconds = Double.isNaN(ewmaSeconds) ? seconds
                            : EWMA_ALPHA * seconds + (1 - EWMA_ALPHA) * ewmaSeconds;
                    lock.notifyAll();
                }
            }
        };
    }

    private static long waitMillis(Instant deadline) {
        if (deadline == null) {
            return WAIT_POLL_MS;
        }
        long left = Duration.between(Instant.now(), deadline).toMillis();
        return Math.max(1, Math.min(WAIT_POLL_MS, left));
    }

    /** A slot frees after about {@code ahead} average durations shared over the slots (1 s each before any ended). */
    private long retryAfterSeconds(int ahead) {
        double per = Double.isNaN(ewmaSeconds) ? 1.0 : ewmaSeconds;
        return Math.max(1, (long) Math.ceil(per * ahead / maxConcurrent));
    }

    /** {running, queued}, read together. */
    private int[] counts() {
        synchronized (lock) {
            return new int[] {running, waiters.size()};
        }
    }
}
