package dev.iotjobs.localhub.concurrent;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** The hub's own threads: named (they show in thread dumps and logs) and daemons (they never keep a JVM alive). */
public final class Threads {
    private Threads() {
    }

    /** Threads named {@code name}, or {@code name-1}, {@code name-2}... when {@code numbered}. */
    public static ThreadFactory daemons(String name, boolean numbered) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, numbered ? name + "-" + count.incrementAndGet() : name);
            t.setDaemon(true);
            return t;
        };
    }
}
