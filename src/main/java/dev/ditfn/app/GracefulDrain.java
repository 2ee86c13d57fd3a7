package dev.ditfn.app;

import dev.ditfn.config.DitConfig;
import io.quarkus.runtime.StartupEvent;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;
import sun.misc.Signal;

import java.time.Duration;

/**
 * SIGTERM lets running requests finish: readiness turns DOWN and new requests get 503 at once, then the process
 * exits when the last running request has left (or the drain timeout passed). Exiting only then matters because
 * ONNX Runtime's own JVM shutdown hook frees its native environment however many runs are still inside it.
 */
@ApplicationScoped
public class GracefulDrain {
    private static final Logger LOG = Logger.getLogger(GracefulDrain.class);

    @Inject
    ModelState state;
    @Inject
    DitConfig config;

    private final Object lock = new Object();
    private int running;

    /** A request holding the model; close it when the request is done. */
    interface Ticket extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Counts every function request from its arrival until its response is written (or its connection closed), so
     * the process never exits between a function's return and the reply. Health and metrics paths are not counted.
     */
    void routes(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).handler(rc -> {
            if (rc.request().path().startsWith("/q/")) {
                rc.next();
                return;
            }
            Ticket ticket = enter();
            rc.addEndHandler(done -> ticket.close());
            rc.next();
        });
    }

    void onStart(@Observes StartupEvent event) {
        Signal.handle(new Signal("TERM"), signal -> {
            Thread drain = new Thread(() -> drainAndExit(config.serving().drainTimeout()), "dit-drain");
            drain.start();
        });
    }

    /** Counts a request as running until the ticket is closed. */
    Ticket enter() {
        synchronized (lock) {
            running++;
        }
        return () -> {
            synchronized (lock) {
                running--;
                lock.notifyAll();
            }
        };
    }

    /** Refuses new work, waits for the running requests (at most {@code timeout}) and reports whether all finished. */
    boolean drain(Duration timeout) {
        state.draining();
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (running > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    lock.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    private void drainAndExit(Duration timeout) {
        int before;
        synchronized (lock) {
            before = running;
        }
        LOG.infof("SIGTERM: draining %d running request(s), at most %s", before, timeout);
        boolean drained = drain(timeout);
        if (drained) {
            LOG.info("drained: exiting");
        } else {
            LOG.warnf("drain timeout %s passed with requests still running: exiting anyway", timeout);
        }
        System.exit(0);
    }
}
