package dev.iotjobs.localhub.concurrent;

import org.slf4j.Logger;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;

/** The hub's own threads: named (they show in thread dumps and logs) and daemons (they never keep a JVM alive). */
public final class Threads {
    private Threads() {
    }

    /** Daemon threads, all named {@code name} (a pool's threads do the same work). */
    public static ThreadFactory daemons(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Runs {@code task} on {@code executor}, logging what it throws as "{@code what} failed" (a pool thread has no
     * caller to tell), and nothing but a debug line when the executor no longer takes work (the hub is stopping).
     */
    public static void executeLogged(Executor executor, Runnable task, Logger log, String what) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.error("{} failed", what, e);
                }
            });
        } catch (RejectedExecutionException e) {
            log.debug("Hub is stopping: {} not started", what);
        }
    }
}
