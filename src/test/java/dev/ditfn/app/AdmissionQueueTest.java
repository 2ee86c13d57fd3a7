package dev.ditfn.app;

import dev.ditfn.engine.RequestAbortedException;
import dev.ditfn.engine.RequestContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admission queue on its own: order, refusal with a retry estimate, leaving the queue early. */
class AdmissionQueueTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private double gauge(String name) {
        return registry.get(name).gauge().value();
    }

    private void awaitQueued(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (gauge("dit.queue.depth") != n) {
            assertTrue(System.nanoTime() < deadline, "queue depth never reached " + n);
            Thread.sleep(5);
        }
    }

    private static RequestContext open() {
        return new RequestContext(null, null);
    }

    @Test
    void waitersRunInArrivalOrderAndTheQueueIsBounded() throws Exception {
        Admission admission = new Admission(1, 2, registry);
        List<String> order = new CopyOnWriteArrayList<>();
        Admission.Slot first = admission.acquire(open());
        CompletableFuture<Void> b = CompletableFuture.runAsync(() -> {
            try (var slot = admission.acquire(open())) {
                order.add("b");
            }
        });
        awaitQueued(1);
        CompletableFuture<Void> c = CompletableFuture.runAsync(() -> {
            try (var slot = admission.acquire(open())) {
                order.add("c");
            }
        });
        awaitQueued(2);
        Admission.RejectedException refused = assertThrows(Admission.RejectedException.class,
                () -> admission.acquire(open()));
        assertEquals(1, registry.get("dit.requests.rejected").counter().count());
        // No request finished yet: the estimate is 1 s per request ahead, 3 ahead with one slot.
        assertEquals(3, refused.retryAfterSeconds());
        assertEquals(1, gauge("dit.requests.in.flight"));

        first.close();
        CompletableFuture.allOf(b, c).get(30, TimeUnit.SECONDS);
        assertEquals(List.of("b", "c"), order);
        assertEquals(0, gauge("dit.requests.in.flight"));
        assertEquals(0, gauge("dit.queue.depth"));
    }

    @Test
    void retryAfterFollowsRecentDurations() throws Exception {
        Admission admission = new Admission(1, 0, registry);
        try (var slot = admission.acquire(open())) {
            Thread.sleep(1200);
        }
        try (var slot = admission.acquire(open())) {
            Admission.RejectedException refused = assertThrows(Admission.RejectedException.class,
                    () -> admission.acquire(open()));
            // One request ahead of a 1.2 s-or-longer request: at least 2 s.
            assertTrue(refused.retryAfterSeconds() >= 2 && refused.retryAfterSeconds() <= 10,
                    "Retry-After " + refused.retryAfterSeconds());
        }
    }

    @Test
    void aCancelledOrExpiredWaiterLeavesTheQueue() throws Exception {
        Admission admission = new Admission(1, 2, registry);
        try (var slot = admission.acquire(open())) {
            RequestContext cancelled = open();
            CompletableFuture<Admission.Slot> waiting = CompletableFuture.supplyAsync(() -> admission.acquire(cancelled));
            awaitQueued(1);
            cancelled.cancel();
            ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(30, TimeUnit.SECONDS));
            RequestAbortedException aborted = assertInstanceOf(RequestAbortedException.class, e.getCause());
            assertEquals(RequestAbortedException.Reason.CANCELLED, aborted.reason());
            assertEquals(0, gauge("dit.queue.depth"));

            RequestContext expiring = new RequestContext(Instant.now().plusMillis(200), null);
            RequestAbortedException late = assertThrows(RequestAbortedException.class,
                    () -> admission.acquire(expiring));
            assertEquals(RequestAbortedException.Reason.DEADLINE, late.reason());
            assertEquals(0, gauge("dit.queue.depth"));
        }
        assertEquals(0, gauge("dit.requests.in.flight"));
    }
}
