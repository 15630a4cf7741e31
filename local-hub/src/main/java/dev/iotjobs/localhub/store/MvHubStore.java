package dev.iotjobs.localhub.store;

import org.h2.mvstore.Cursor;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.FileStore;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.h2.mvstore.RandomAccessStore;
import org.h2.mvstore.type.ByteArrayDataType;
import org.h2.mvstore.type.StringDataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The durable {@link HubStore}: one H2 MVStore file (where, is the caller's business), one MVMap per bucket.
 * <p>
 * Durability: MVStore's timer auto-commit is off; every write goes through a {@link GroupCommitter}
 * and returns only after the commit wrote its chunk to the file, so acknowledged data survives a kill -9
 * of the JVM (the operating system holds the written pages). There is no fsync per commit: surviving a
 * power loss or OS crash is not a goal of a development hub, and fsync would cost a disk flush per commit.
 * MVStore recovers a file left by a crashed process on open by falling back to the last complete chunk.
 * <p>
 * Reads go straight to the MVMaps, which are safe for concurrent readers and see applied writes at once.
 * Old versions' space is reused at once (no retention time, no versions kept): a reader registers the
 * version it reads, and MVStore keeps that version's chunks until the reader is done.
 * <p>
 * Size: a job that rewrites every twin writes the new versions next to the old ones, into the space older
 * versions left; between writes the committer frees chunks that only a few job records keep alive
 * ({@link Sink#maintainBetweenWrites}), and when the store has been idle for half a second, housekeeping
 * ({@link Sink#maintain}) compacts the file towards the size of the live data.
 */
public final class MvHubStore implements HubStore {
    private static final Logger LOG = LoggerFactory.getLogger(MvHubStore.class);
    /**
     * Page cache, small on purpose. The hub keeps every twin in memory, so the store is written far more than it is
     * read: a job over a million twins passes some 750 MB of pages through this cache, each rewritten once. With
     * 64 MB a page stayed cached for about a second, long enough to outlive the young collections of a busy hub, so
     * nearly all of them were promoted to the old generation and died there (about 700 MB of old garbage per such
     * job, a concurrent mark cycle during a fresh hub's first job). With 4 MB they die young (docs/benchmarks.md).
     */
    private static final int CACHE_MB = 4;
    /** Housekeeping compacts the file when less of it than this is live data (see {@link Sink#maintain})... */
    private static final int START_BELOW_LIVE_PERCENT = 60;
    /** ...until this much of it is. */
    private static final int STOP_AT_LIVE_PERCENT = 85;
    /** Housekeeping rewrites the live pages of chunks that hold less live data than this. */
    private static final int REWRITE_BELOW_PERCENT = 80;
    /** How much live data the housekeeping between writes rewrites per call. */
    private static final int BETWEEN_WRITES_BYTES = 1 << 20;
    /** How much housekeeping rewrites, and moves, in one call (the time a writer may wait for it). */
    private static final int MAINTENANCE_BYTES = 16 << 20;

    private final Path file;
    private final MVStore store;
    /** Opened on first use (see {@link Bucket}): a map the file already has is read back, a new one is created. */
    private final Map<Bucket, MVMap<String, byte[]>> maps = new ConcurrentHashMap<>();
    private final GroupCommitter committer;
    /** The housekeeping's own map (not a bucket): a counter it commits to move the newest chunk. */
    private final MVMap<String, Long> housekeeping;
    private volatile boolean closed;

    private MvHubStore(Path file, MVStore store) {
        this.file = file;
        this.store = store;
        for (Bucket bucket : List.of(Bucket.DEVICES, Bucket.JOBS, Bucket.DEVICE_JOBS, Bucket.META, Bucket.MODULES)) {
            mapOf(bucket);
        }
        // Space of old versions is reused as soon as no reader needs them: MVStore's 45 s default protects
        // against disks that reorder unflushed writes on a power loss, which this store does not promise
        // (see the class comment); a kill -9 leaves every completed write in the operating system's cache.
        housekeeping = store.openMap("housekeeping");
        store.setRetentionTime(0);
        store.setVersionsToKeep(0);
        store.commit(); // persists the map definitions of a new file
        committer = new GroupCommitter("hub-store-committer", new Sink(),
                failure -> LOG.error("Store write to {} failed", file, failure));
    }

    /**
     * Opens (or creates) a store file; its directory is the hub's data directory.
     *
     * @throws IllegalStateException if another process (or another store in this JVM) has it open
     */
    public static MvHubStore open(Path file) {
        Path dataDir = file.toAbsolutePath().getParent();
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the data directory " + dataDir, e);
        }
        MVStore store;
        try {
            store = new MVStore.Builder()
                    .fileName(file.toString())
                    // No timer commits (we commit explicitly) and, with a zero buffer size, no commit
                    // triggered from inside a write when unsaved memory grows: such a commit could
                    // persist half of a putAll.
                    .autoCommitDisabled()
                    .autoCommitBufferSize(0)
                    .cacheSize(CACHE_MB)
                    .open();
        } catch (MVStoreException e) {
            if (e.getErrorCode() == DataUtils.ERROR_FILE_LOCKED || e.getCause() instanceof OverlappingFileLockException) {
                throw new IllegalStateException("The data directory " + dataDir.toAbsolutePath()
                        + " is in use by another local hub (" + file.getFileName() + " is locked)."
                        + " Stop that hub, or start this one with another data directory.", e);
            }
            throw e;
        } catch (OverlappingFileLockException e) {
            throw new IllegalStateException("The data directory " + dataDir.toAbsolutePath()
                    + " is in use by another local hub in this process.", e);
        }
        return new MvHubStore(file, store);
    }

    @Override
    public void put(Bucket bucket, String key, byte[] document) {
        Objects.requireNonNull(document, "document");
        committer.write(List.of(checked(new Write(bucket, key, document.clone()))));
    }

    @Override
    public void putAll(Collection<Write> writes) {
        List<Write> copy = copyOf(writes);
        if (!copy.isEmpty()) {
            committer.write(copy);
        }
    }

    @Override
    public CompletableFuture<Void> putAllAsync(Collection<Write> writes) {
        List<Write> copy = copyOf(writes);
        return copy.isEmpty() ? CompletableFuture.completedFuture(null) : committer.submit(copy);
    }

    /** The writes as an unmodifiable list, each validated; documents are handed over (see HubStore.putAll). */
    private List<Write> copyOf(Collection<Write> writes) {
        List<Write> copy = List.copyOf(writes);
        for (Write write : copy) {
            checked(write);
        }
        return copy;
    }

    @Override
    public void delete(Bucket bucket, String key) {
        committer.write(List.of(checked(new Write(bucket, key, null))));
    }

    @Override
    public byte[] get(Bucket bucket, String key) {
        Objects.requireNonNull(key, "key");
        MVMap<String, byte[]> map = map(bucket);
        MVStore.TxCounter reading = store.registerVersionUsage();
        try {
            byte[] document = map.get(key);
            return document == null ? null : document.clone();
        } finally {
            store.deregisterVersionUsage(reading);
        }
    }

    /** Visits a consistent snapshot (the map as it was when the visit started). */
    @Override
    public void forEach(Bucket bucket, BiConsumer<String, byte[]> visitor) {
        MVMap<String, byte[]> map = map(bucket);
        // Registered before the cursor takes its root: the chunks of the version it reads are kept until
        // the visit ends, whatever commits and housekeeping happen meanwhile.
        MVStore.TxCounter reading = store.registerVersionUsage();
        try {
            Cursor<String, byte[]> cursor = map.cursor(null);
            while (cursor.hasNext()) {
                String key = cursor.next();
                visitor.accept(key, cursor.getValue().clone());
            }
        } finally {
            store.deregisterVersionUsage(reading);
        }
    }

    @Override
    public long count(Bucket bucket) {
        return map(bucket).sizeAsLong();
    }

    /** Commits what was acknowledged (everything) and releases the file and its lock. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        committer.close();
        store.close();
    }

    /** The store file, for diagnostics. */
    public Path file() {
        return file;
    }

    private MVMap<String, byte[]> map(Bucket bucket) {
        if (closed) {
            throw new IllegalStateException("store is closed");
        }
        return mapOf(Objects.requireNonNull(bucket, "bucket"));
    }

    private MVMap<String, byte[]> mapOf(Bucket bucket) {
        return maps.computeIfAbsent(bucket, b -> store.openMap(b.name(), new MVMap.Builder<String, byte[]>()
                .keyType(StringDataType.INSTANCE)
                .valueType(ByteArrayDataType.INSTANCE)));
    }

    /** Validates on the caller's thread, so a bad write fails alone instead of failing its commit group. */
    private Write checked(Write write) {
        Objects.requireNonNull(write.bucket(), "bucket");
        Objects.requireNonNull(write.key(), "key");
        if (closed) {
            throw new IllegalStateException("store is closed");
        }
        return write;
    }

    /** Runs on the committer thread only. */
    private final class Sink implements GroupCommitter.Sink {
        @Override
        public void apply(List<Write> writes) {
            for (Write write : writes) {
                MVMap<String, byte[]> map = mapOf(write.bucket());
                if (write.document() == null) {
                    map.remove(write.key());
                } else {
                    map.put(write.key(), write.document());
                }
            }
        }

        @Override
        public void commit() {
            store.commit();
        }

        @Override
        public void rollback() {
            if (!store.isClosed()) {
                store.rollback();
            }
        }

        /** Housekeeping calls since the file last shrank (it gives up after moving three times the file). */
        private int callsWithoutShrinking;

        /**
         * Keeps the file near the size of its live data: a job that rewrites every twin leaves the old
         * versions' pages behind, and without this the file would grow by about the size of the fleet's
         * twins per job. Starts when less than {@link #START_BELOW_LIVE_PERCENT} of the file is live data
         * and goes on until {@link #STOP_AT_LIVE_PERCENT} (or until it stops helping): rewrites the live pages
         * of sparse chunks into new ones, then moves chunks towards the start of the file so that it can be
         * truncated, at most {@link #MAINTENANCE_BYTES} of each per call.
         */
        @Override
        public boolean maintain() {
            if (store.isClosed() || livePercent() >= (callsWithoutShrinking == 0 ? START_BELOW_LIVE_PERCENT : STOP_AT_LIVE_PERCENT)) {
                callsWithoutShrinking = 0;
                return false;
            }
            long sizeBefore = store.getFileStore().size();
            compactSlice();
            callsWithoutShrinking = store.getFileStore().size() < sizeBefore ? 1 : callsWithoutShrinking + 1;
            // Chunks move towards the start 16 MB at a time and the file shrinks once its end is free: give up
            // only after moving three times the whole file without the file shrinking.
            long maxCalls = 2 + 3 * store.getFileStore().size() / MAINTENANCE_BYTES;
            if (callsWithoutShrinking > maxCalls || livePercent() >= STOP_AT_LIVE_PERCENT) {
                callsWithoutShrinking = 0;
                return false;
            }
            return true;
        }

        /**
         * While jobs run back to back: a chunk whose twins a later job rewrote still holds that job's few
         * progress records, so it never dies and its space is never reused. Rewriting the live pages of
         * the sparsest chunks (a few kilobytes each) frees them; at most {@link #BETWEEN_WRITES_BYTES} per call.
         * The moved pages are written by the next group's commit.
         */
        @Override
        public void maintainBetweenWrites() {
            if (!store.isClosed() && store.getFileStore().getChunksFillRate() < REWRITE_BELOW_PERCENT) {
                store.compact(REWRITE_BELOW_PERCENT, BETWEEN_WRITES_BYTES);
            }
        }

        /** One slice of compaction. */
        private void compactSlice() {
            FileStore<?> files = store.getFileStore();
            if (files.getChunksFillRate() < REWRITE_BELOW_PERCENT) {
                store.compact(REWRITE_BELOW_PERCENT, MAINTENANCE_BYTES);
                store.commit();
            }
            if (files instanceof RandomAccessStore randomAccess) {
                randomAccess.compactMoveChunks(STOP_AT_LIVE_PERCENT, MAINTENANCE_BYTES, store);
            }
            // A commit of its own: the store's newest chunk (which holds the current roots) then goes to the
            // first free space instead of staying at the end of the file, where it would keep it from shrinking.
            housekeeping.put("runs", housekeeping.getOrDefault("runs", 0L) + 1);
            store.commit();
        }

        /** The share of the file in use times the share of live data in the chunks that use it. */
        private int livePercent() {
            return store.getFillRate() * store.getFileStore().getChunksFillRate() / 100;
        }

        @Override
        public String toString() {
            return "file in use " + store.getFillRate() + " %, live in chunks " + store.getFileStore().getChunksFillRate()
                    + " %, file " + (store.getFileStore().size() >> 20) + " MB";
        }

    }
}
