package dev.iotjobs.localhub.store;

import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * Durable storage of the hub: a few named maps from string keys to JSON documents (UTF-8 bytes).
 * <p>
 * The hub core keeps its working set in memory and writes through to the store; the store is read
 * back in full at start-up. Implementations must be thread-safe. A write method returns only once the
 * write is committed (it survives a kill -9 of the process); concurrent writers may share one commit
 * (group commit). The backend is chosen only when the hub is wired ({@code LocalHub}).
 */
public interface HubStore extends AutoCloseable {

    /**
     * A named map of the store. Each typed store declares the buckets it owns ({@code new Bucket("c2d")}); the
     * store opens a bucket the first time it is used, so a new aggregate needs no change here. The constants
     * below are the buckets of the first typed stores (devices, modules, jobs, and small hub-wide documents).
     *
     * @param name lower-case letters, digits, '-' or '_' (it names the map inside the store file)
     */
    record Bucket(String name) {
        public static final Bucket DEVICES = new Bucket("devices");
        public static final Bucket JOBS = new Bucket("jobs");
        public static final Bucket DEVICE_JOBS = new Bucket("device_jobs");
        public static final Bucket META = new Bucket("meta");
        public static final Bucket MODULES = new Bucket("modules");

        public Bucket {
            if (name == null || !name.matches("[a-z0-9_-]{1,64}") || name.equals("housekeeping")) {
                throw new IllegalArgumentException("Bucket name '" + name + "': use 1-64 of a-z, 0-9, '-', '_' ("
                        + "'housekeeping' is the store's own)");
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Stores (or replaces) one document and commits. */
    void put(Bucket bucket, String key, byte[] document);

    /**
     * Stores several documents (possibly of several collections) atomically and commits once. Unlike
     * {@link #put}, the store keeps the arrays of the writes as they are, without copying them: batches
     * carry freshly serialized documents (a twin job writes a million), and the caller must not change them.
     */
    void putAll(Collection<Write> writes);

    /**
     * Like {@link #putAll} but does not wait: the future completes once the writes are committed. Writes
     * submitted one after the other are applied in that order. The future may complete on a thread of the
     * store: what is chained on it must not wait for another store write (hop to an executor first).
     */
    default CompletableFuture<Void> putAllAsync(Collection<Write> writes) {
        try {
            putAll(writes);
            return CompletableFuture.completedFuture(null);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Removes a document and commits; no-op when absent. */
    void delete(Bucket bucket, String key);

    /** Reads one document, or null. */
    byte[] get(Bucket bucket, String key);

    /** Visits every document of a collection, in key order. */
    void forEach(Bucket bucket, BiConsumer<String, byte[]> visitor);

    /** Number of documents in a collection. */
    long count(Bucket bucket);

    @Override
    void close();

    /** One write of a batch; a null document deletes the key. */
    record Write(Bucket bucket, String key, byte[] document) {
    }
}
