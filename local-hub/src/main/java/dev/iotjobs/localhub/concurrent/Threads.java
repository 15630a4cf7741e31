package dev.iotjobs.localhub.concurrent;

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
}
