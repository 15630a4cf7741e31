package dev.iotjobs.localhub.store;

import dev.iotjobs.localhub.concurrent.Threads;
import dev.iotjobs.localhub.store.HubStore.Write;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * Group commit on one dedicated thread: writers enqueue their batch and block; the committer thread
 * takes everything queued so far, applies it, commits once and releases all those writers together.
 * <p>
 * Why a single applying thread rather than writers applying their own changes: a commit snapshots
 * whatever is in the maps, so a commit racing with a half-applied {@code putAll} would persist half of
 * it. With one thread applying and committing, every batch is either wholly inside a commit or wholly
 * outside, and concurrent writers still share commits (the queue fills while a commit is running).
 */
final class GroupCommitter implements AutoCloseable {
    /** Bounds the memory and the latency of one commit; a bigger backlog is committed in several goes. */
    private static final int MAX_WRITES_PER_COMMIT = 20_000;
    private static final long MAX_BYTES_PER_COMMIT = 32L << 20;

    /** Applies and commits the writes of a group; must either commit all of them or none. */
    interface Sink {
        void apply(List<Write> writes);

        void commit();

        /** Drops what was applied since the last commit (after a failure). */
        void rollback();

        /**
         * Housekeeping (e.g. reclaiming the space of old versions), run by the committer thread when no writer
         * has been waiting for {@link #IDLE_NANOS} since the last writes. Must keep each call short, a writer
         * that arrives meanwhile waits for it; returns whether there is more to do.
         */
        default boolean maintain() {
            return false;
        }

        /**
         * Light housekeeping between groups while writes keep coming (every
         * {@link #COMMITS_BETWEEN_BUSY_MAINTENANCE} commits): only what is cheap and cannot wait for an idle moment.
         */
        default void maintainBetweenWrites() {
        }
    }

    /** How long the store must be idle (no writer waiting) before the sink's housekeeping runs. */
    static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long MAINTENANCE_GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    static final int COMMITS_BETWEEN_BUSY_MAINTENANCE = 20;

    private record Request(List<Write> writes, long bytes, CompletableFuture<Void> done) {
    }

    private static final Request STOP = new Request(List.of(), 0, new CompletableFuture<>());

    /** Counters of the committer thread, logged at debug level on close (for profiling the store). */
    private static final class Stats {
        long since = System.nanoTime();
        long commits;
        long writes;
        long applyNanos;
        long commitNanos;
        long notifyNanos;

        void log(String period) {
            LOG.debug("{}: {} commits of {} writes: apply {} ms, commit {} ms, notify {} ms", period, commits, writes,
                    applyNanos / 1_000_000, commitNanos / 1_000_000, notifyNanos / 1_000_000);
            since = System.nanoTime();
            commits = writes = applyNanos = commitNanos = notifyNanos = 0;
        }
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GroupCommitter.class);

    private final Stats stats = new Stats();
    private final Sink sink;
    private final LinkedBlockingQueue<Request> queue = new LinkedBlockingQueue<>();
    /** Read-locked by writers while enqueueing, write-locked by close: nothing can be enqueued after STOP. */
    private final ReentrantReadWriteLock closeLock = new ReentrantReadWriteLock();
    private final Thread thread;
    private final ExecutorService notifier;
    private final Consumer<Throwable> onFailure;
    private boolean closed;

    GroupCommitter(String name, Sink sink, Consumer<Throwable> onFailure) {
        this.sink = sink;
        this.onFailure = onFailure;
        this.notifier = Executors.newSingleThreadExecutor(Threads.daemons(name + "-notifier"));
        this.thread = Threads.daemons(name).newThread(this::run);
        this.thread.start();
    }

    /** Applies {@code writes} atomically and returns once they are committed. */
    void write(List<Write> writes) {
        try {
            submit(writes).join(); // uninterruptible: the write may already be committed, the caller must learn it
        } catch (CompletionException e) {
            throw new IllegalStateException("store write failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * Enqueues {@code writes} (applied atomically, in submission order) and returns a future completed once
     * they are committed; the caller need not wait on a thread.
     */
    CompletableFuture<Void> submit(List<Write> writes) {
        long bytes = 0;
        for (Write write : writes) {
            bytes += write.key().length() * 2L + (write.document() == null ? 0 : write.document().length);
        }
        Request request = new Request(writes, bytes, new CompletableFuture<>());
        closeLock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("store is closed");
            }
            queue.add(request);
        } finally {
            closeLock.readLock().unlock();
        }
        return request.done();
    }

    private void run() {
        List<Request> group = new ArrayList<>();
        List<Write> writes = new ArrayList<>();
        boolean stopping = false;
        // How long to wait for a writer before housekeeping: none due (0: wait for writes), IDLE_NANOS after
        // writes (and after opening: a file may come in need of it), a short gap between two slices of
        // housekeeping so that a waiting writer goes first.
        long maintenanceAfter = IDLE_NANOS;
        int commitsSinceMaintenance = 0;
        while (!stopping) {
            group.clear();
            writes.clear();
            try {
                Request first = maintenanceAfter == 0 ? queue.take() : queue.poll(maintenanceAfter, TimeUnit.NANOSECONDS);
                if (first == null) {
                    maintenanceAfter = maintain() ? MAINTENANCE_GAP_NANOS : 0;
                    continue;
                }
                group.add(first);
            } catch (InterruptedException e) {
                continue; // only close() stops this thread, by enqueueing STOP
            }
            maintenanceAfter = IDLE_NANOS;
            long bytes = 0;
            Request next = group.get(0);
            while (true) {
                if (next == STOP) {
                    group.remove(group.size() - 1);
                    stopping = true;
                    break;
                }
                writes.addAll(next.writes());
                bytes += next.bytes();
                if (writes.size() >= MAX_WRITES_PER_COMMIT || bytes >= MAX_BYTES_PER_COMMIT) {
                    break;
                }
                next = queue.poll();
                if (next == null) {
                    break;
                }
                group.add(next);
            }
            if (group.isEmpty()) {
                continue;
            }
            try {
                long t0 = System.nanoTime();
                sink.apply(writes);
                long t1 = System.nanoTime();
                sink.commit();
                long t2 = System.nanoTime();
                // Writers are released on the notifier thread: what they chain on their futures (making new
                // twins visible, answering devices) then runs next to the committer's next group, not before it.
                List<Request> committed = List.copyOf(group);
                notifier.execute(() -> committed.forEach(r -> r.done().complete(null)));
                stats.commits++;
                if (++commitsSinceMaintenance >= COMMITS_BETWEEN_BUSY_MAINTENANCE) {
                    commitsSinceMaintenance = 0;
                    maintainBetweenWrites();
                }
                stats.writes += writes.size();
                stats.applyNanos += t1 - t0;
                stats.commitNanos += t2 - t1;
                stats.notifyNanos += System.nanoTime() - t2; // the hand-over to the notifier
                if (LOG.isDebugEnabled() && System.nanoTime() - stats.since > 2_000_000_000L) {
                    stats.log("last 2 s");
                }
            } catch (Throwable t) {
                try {
                    sink.rollback();
                } catch (Throwable r) {
                    t.addSuppressed(r);
                }
                List<Request> failed = List.copyOf(group);
                notifier.execute(() -> failed.forEach(r -> r.done().completeExceptionally(t)));
                onFailure.accept(t);
            }
        }
    }

    /** Runs the sink's housekeeping once; a failure there is reported and leaves the data as it was. */
    private boolean maintain() {
        try {
            long t0 = System.nanoTime();
            boolean more = sink.maintain();
            LOG.debug("store housekeeping: {} ms, {} ({})", (System.nanoTime() - t0) / 1_000_000, more ? "more to do" : "done", sink);
            return more;
        } catch (Throwable t) {
            onFailure.accept(t);
            return false;
        }
    }

    private void maintainBetweenWrites() {
        try {
            sink.maintainBetweenWrites();
        } catch (Throwable t) {
            onFailure.accept(t);
        }
    }

    /** Commits everything already enqueued, then stops the thread. Later writes fail. */
    @Override
    public void close() {
        closeLock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            queue.add(STOP);
        } finally {
            closeLock.writeLock().unlock();
        }
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        notifier.shutdown(); // after the committer's last group: every writer is released before close returns
        while (!notifier.isTerminated()) {
            try {
                notifier.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        stats.log("until close");
    }
}
