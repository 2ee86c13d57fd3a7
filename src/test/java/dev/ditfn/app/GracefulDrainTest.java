package dev.ditfn.app;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The drain waits for running requests, no longer than its timeout, and refuses new work from its first moment. */
class GracefulDrainTest {

    private static GracefulDrain readyDrain() {
        GracefulDrain drain = new GracefulDrain();
        drain.state = new ModelState();
        drain.state.ready(new LoadedModel("m", Path.of("m"), "P", null, 0, 0, Duration.ZERO, null));
        return drain;
    }

    @Test
    void waitsForTheRunningRequestAndOnlyForIt() throws Exception {
        GracefulDrain drain = readyDrain();
        GracefulDrain.Ticket running = drain.enter();
        CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> drain.drain(Duration.ofSeconds(30)));
        assertThrows(java.util.concurrent.TimeoutException.class, () -> drained.get(300, TimeUnit.MILLISECONDS),
                "a request is still running");
        assertEquals(ModelState.Phase.DRAINING, drain.state.status().phase(), "new work is refused at once");
        running.close();
        assertTrue(drained.get(5, TimeUnit.SECONDS));
    }

    @Test
    void givesUpAfterTheTimeout() {
        GracefulDrain drain = readyDrain();
        drain.enter();
        long t0 = System.nanoTime();
        assertFalse(drain.drain(Duration.ofMillis(200)));
        assertTrue(System.nanoTime() - t0 >= 150_000_000L, "it waited for the timeout");
    }

    @Test
    void aModelThatIsStillLoadingHasNothingToDrain() {
        GracefulDrain drain = new GracefulDrain();
        drain.state = new ModelState();
        assertTrue(drain.drain(Duration.ofSeconds(1)));
        assertEquals(ModelState.Phase.LOADING, drain.state.status().phase());
    }
}
