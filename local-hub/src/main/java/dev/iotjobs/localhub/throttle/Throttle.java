package dev.iotjobs.localhub.throttle;

import java.util.function.LongSupplier;

/**
 * One rate limit, as a generic cell-rate algorithm (a token bucket kept as one number): operations are
 * spaced {@code 1/rate} apart, a burst of {@code burst} passes at once, and an operation beyond the burst
 * is either given the delay after which it conforms (shaping) or refused when that delay would exceed the
 * backlog. No thread waits here: callers delay the work themselves (a timer, a delayed response).
 */
public final class Throttle {
    private final double perSecond;
    private final long intervalNanos;
    private final long toleranceNanos;
    private final long maxDelayNanos;
    private final LongSupplier nanoTime;
    /** When the next operation would conform if no burst were allowed (guarded by this). */
    private long theoreticalArrival;

    /**
     * @param perSecond  sustained rate
     * @param burst      operations that may pass at once (at least 1)
     * @param maxDelayMillis how long an operation may be delayed before it is refused (the backlog)
     */
    public Throttle(double perSecond, int burst, long maxDelayMillis, LongSupplier nanoTime) {
        if (!(perSecond > 0) || burst < 1 || maxDelayMillis < 0) {
            throw new IllegalArgumentException("throttle needs a positive rate and burst: " + perSecond + ", " + burst);
        }
        this.perSecond = perSecond;
        this.intervalNanos = Math.max(1, Math.round(1e9 / perSecond));
        this.toleranceNanos = (burst - 1) * intervalNanos;
        this.maxDelayNanos = maxDelayMillis * 1_000_000;
        this.nanoTime = nanoTime;
        this.theoreticalArrival = nanoTime.getAsLong();
    }

    public double perSecond() {
        return perSecond;
    }

    /**
     * Reserves {@code permits} operations: returns after how many nanoseconds they may run (0: now), or -1
     * (and reserves nothing) if that would be longer than the backlog allows.
     */
    public synchronized long reserve(int permits) {
        long now = nanoTime.getAsLong();
        long start = Math.max(theoreticalArrival, now);
        long delay = Math.max(0, start + (permits - 1) * intervalNanos - toleranceNanos - now);
        if (delay > maxDelayNanos) {
            return -1;
        }
        theoreticalArrival = start + permits * intervalNanos;
        return delay;
    }

    /**
     * Fills the backlog as a flood of other clients would: for the next {@code millis} every operation is refused;
     * after that operations are delayed until the backlog has drained.
     */
    public synchronized void saturate(long millis) {
        long now = nanoTime.getAsLong();
        theoreticalArrival = Math.max(theoreticalArrival, now + toleranceNanos + maxDelayNanos + millis * 1_000_000);
    }

    /** Takes as many of {@code max} operations as may run now (0 if none may). */
    public synchronized int acquireNow(int max) {
        long now = nanoTime.getAsLong();
        int n = 0;
        while (n < max && theoreticalArrival - toleranceNanos <= now) {
            theoreticalArrival = Math.max(theoreticalArrival, now) + intervalNanos;
            n++;
        }
        return n;
    }

    /** True when nothing is reserved ahead: a whole burst may pass now. */
    public synchronized boolean isIdle() {
        return theoreticalArrival <= nanoTime.getAsLong();
    }

    /** Nanoseconds until the next operation may run (0 if one may run now). */
    public synchronized long nanosUntilNext() {
        return Math.max(0, theoreticalArrival - toleranceNanos - nanoTime.getAsLong());
    }
}
