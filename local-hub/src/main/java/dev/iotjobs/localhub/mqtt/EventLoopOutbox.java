package dev.iotjobs.localhub.mqtt;

import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Work handed to one event loop from other threads (job workers, the store committer), drained in runs.
 * <p>
 * Handing each publish to the loop on its own ({@code runOnContext} per message) wakes the loop once per
 * message; a job fanning out to thousands of devices then spends more time in wake-ups than in writing.
 * Here a hand-over schedules a drain only if none is pending, and one drain writes everything queued so far.
 */
final class EventLoopOutbox {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EventLoopOutbox.class);
    private static final int MAX_TASKS_PER_DRAIN = 1024;
    private final Context context;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();

    EventLoopOutbox(Context context) {
        this.context = context;
    }

    /** Runs {@code task} on the loop: at once when called from it, else in the loop's next drain. */
    void execute(Runnable task) {
        if (Vertx.currentContext() == context) {
            task.run();
            return;
        }
        tasks.add(task);
        if (drainScheduled.compareAndSet(false, true)) {
            context.runOnContext(v -> drain());
        }
    }

    private void drain() {
        // Cleared first: a task added from now on schedules another drain, so none is left behind.
        drainScheduled.set(false);
        Runnable task;
        int run = 0;
        while (run++ < MAX_TASKS_PER_DRAIN && (task = tasks.poll()) != null) {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.warn("Event-loop task failed", e);
            }
        }
        // A long backlog is written in several drains, so the loop still reads its sockets in between.
        if (!tasks.isEmpty() && drainScheduled.compareAndSet(false, true)) {
            context.runOnContext(v -> drain());
        }
    }
}
