package dev.iotjobs.localhub.store;

import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BiConsumer;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link HubStore} that keeps everything in memory (tests, and hubs started without persistence).
 * Sorted concurrent maps give {@link #forEach} its key order without a lock. Arrays are copied in and
 * out, so neither the caller nor the store can change the other's copy (same behaviour as {@link MvHubStore}).
 */
public final class MemoryHubStore implements HubStore {
    /** Created on first use, like the maps of {@link MvHubStore}. */
    private final Map<Bucket, ConcurrentSkipListMap<String, byte[]>> buckets = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public MemoryHubStore() {
    }

    @Override
    public void put(Bucket bucket, String key, byte[] document) {
        Objects.requireNonNull(document, "document");
        map(bucket).put(Objects.requireNonNull(key, "key"), document.clone());
    }

    /** Not atomic for concurrent readers; there is no crash to be atomic against in memory. */
    @Override
    public void putAll(Collection<Write> writes) {
        checkOpen();
        for (Write write : writes) {
            Objects.requireNonNull(write.key(), "key");
            Objects.requireNonNull(write.bucket(), "bucket");
        }
        for (Write write : writes) {
            if (write.document() == null) {
                bucket(write.bucket()).remove(write.key());
            } else {
                bucket(write.bucket()).put(write.key(), write.document()); // handed over: see HubStore.putAll
            }
        }
    }

    @Override
    public void delete(Bucket bucket, String key) {
        map(bucket).remove(Objects.requireNonNull(key, "key"));
    }

    @Override
    public byte[] get(Bucket bucket, String key) {
        byte[] document = map(bucket).get(Objects.requireNonNull(key, "key"));
        return document == null ? null : document.clone();
    }

    @Override
    public void forEach(Bucket bucket, BiConsumer<String, byte[]> visitor) {
        map(bucket).forEach((key, document) -> visitor.accept(key, document.clone()));
    }

    @Override
    public long count(Bucket bucket) {
        return map(bucket).size();
    }

    @Override
    public void close() {
        closed = true;
    }

    private ConcurrentSkipListMap<String, byte[]> map(Bucket bucket) {
        checkOpen();
        return bucket(Objects.requireNonNull(bucket, "bucket"));
    }

    private ConcurrentSkipListMap<String, byte[]> bucket(Bucket bucket) {
        return buckets.computeIfAbsent(bucket, b -> new ConcurrentSkipListMap<>());
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("store is closed");
        }
    }
}
