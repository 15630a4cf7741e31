package dev.iotjobs.localhub;

import java.util.HashMap;
import java.util.Map;

/**
 * Where a hub's start-up time goes, logged at debug ({@code
 * -Dorg.slf4j.simpleLogger.log.dev.iotjobs.localhub.LocalHub=debug} for the command-line hub): each step's own
 * milliseconds (since the previous mark of the same thread) and when it ended (since the start). Steps that run
 * on other threads than the starting one are marked with their thread's name.
 */
final class StartupTrace {
    private final long start = System.nanoTime();
    private final Thread starter = Thread.currentThread();
    private final Map<Thread, Long> lastMark = new HashMap<>();
    private final StringBuilder steps = new StringBuilder();

    /** Notes that {@code step} just finished on this thread. */
    synchronized void mark(String step) {
        long now = System.nanoTime();
        Thread thread = Thread.currentThread();
        long since = lastMark.getOrDefault(thread, start);
        lastMark.put(thread, now);
        if (!steps.isEmpty()) {
            steps.append(", ");
        }
        steps.append(step).append(' ').append(millis(now - since)).append(" ms (at ").append(millis(now - start))
                .append(')');
        if (thread != starter) {
            steps.append(" [").append(thread.getName()).append(']');
        }
    }

    /** "step 12 ms (at 12), step 40 ms (at 52), ... total 300 ms". */
    synchronized String summary() {
        return steps + ", total " + millis(System.nanoTime() - start) + " ms";
    }

    private static long millis(long nanos) {
        return nanos / 1_000_000;
    }
}
