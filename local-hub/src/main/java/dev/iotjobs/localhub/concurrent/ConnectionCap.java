package dev.iotjobs.localhub.concurrent;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The most connections one listener holds at once, so that no endpoint can be held open without bound. A listener
 * asks {@link #tryAcquire()} for each new connection and calls {@link #release()} when an admitted one closes; a
 * refused connection is told {@link #refusal()} where its protocol allows it, and the hub logs the refusal (at most
 * one line every few seconds per listener, with the count of those it did not log, so a flood cannot fill the log).
 * Thread-safe: the listeners of every event loop share one cap.
 */
public final class ConnectionCap {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionCap.class);
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final String endpoint;
    private final String knob;
    private final int limit;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger unlogged = new AtomicInteger();
    private final AtomicLong nextLog = new AtomicLong(System.nanoTime());

    /**
     * @param endpoint what the listener serves, for the log ("MQTT (8883)")
     * @param knob     the setting that moves the limit, for the log ("HubLimits.mqttConnections")
     * @param limit    connections held at once, at least 1
     */
    public ConnectionCap(String endpoint, String knob, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("a connection cap must be at least 1: " + limit);
        }
        this.endpoint = endpoint;
        this.knob = knob;
        this.limit = limit;
    }

    /** True (and counted) when the listener may take one more connection; false, logged, when it holds its limit. */
    public boolean tryAcquire() {
        if (open.incrementAndGet() <= limit) {
            return true;
        }
        open.decrementAndGet();
        int skipped = unlogged.incrementAndGet();
        long now = System.nanoTime();
        long next = nextLog.get();
        if (now - next >= 0 && nextLog.compareAndSet(next, now + LOG_EVERY_NANOS)) {
            unlogged.addAndGet(-skipped);
            LOG.warn("Refused {} connection(s) to {}: {} connections are open, the most this hub accepts ({}); "
                    + "clients retry later, or raise the limit", skipped, endpoint, limit, knob);
        }
        return false;
    }

    /** An admitted connection closed. */
    public void release() {
        open.decrementAndGet();
    }

    /** Connections admitted and still open. */
    public int open() {
        return open.get();
    }

    public int limit() {
        return limit;
    }

    /** What a refused client is told. */
    public String refusal() {
        return "The hub already holds " + limit + " connections on its " + endpoint
                + " endpoint, the most it accepts; retry later.";
    }
}
