package dev.iotjobs.localhub.bench;

import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DeviceBenchAccess;
import dev.iotjobs.localhub.device.TwinChange;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.store.HubStore;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ByteArrayDataType;
import org.h2.mvstore.type.StringDataType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The limit-store scenario: what the twin job's store work costs on its own. A bare MVStore, opened as
 * {@code MvHubStore} opens its file, first holds the N registered devices' documents; each pass then overwrites
 * them with the documents the job stores (the devices after the job's change, serialized by the hub's codec),
 * in the job's commits: 1,000 device documents in id order plus the batch's job record, one commit each
 * (what the twin job's group commits hold; {@code -Dbench.limit.storeBatch} changes the size). Only the puts
 * and commits are timed, on one thread, as on the store's committer thread.
 */
final class LimitStore {
    /** {@code MvHubStore.CACHE_MB}. */
    private static final int CACHE_MB = 4;
    /**
     * Devices per commit: {@code JobRunner.TWIN_BATCH}. The committer groups batches that queue up while it
     * commits (up to {@code GroupCommitter.MAX_WRITES_PER_COMMIT}); in the twin job most commits hold one batch.
     */
    static final int BATCH = Integer.getInteger("bench.limit.storeBatch", 1000);

    private LimitStore() {
    }

    static Limits.Result run(Device[] registeredInIdOrder, TwinChange change) throws Exception {
        int n = registeredInIdOrder.length;
        // The documents are made before any clock starts.
        String[] keys = new String[n];
        byte[][] registered = new byte[n][];
        byte[][] updated = new byte[n][];
        long updatedBytes = 0;
        Instant now = Instant.now();
        for (int i = 0; i < n; i++) {
            keys[i] = registeredInIdOrder[i].id();
            registered[i] = DeviceBenchAccess.encode(registeredInIdOrder[i]);
            updated[i] = DeviceBenchAccess.encode(change.applyTo(registeredInIdOrder[i], now));
            updatedBytes += updated[i].length;
        }
        int warmups = Integer.getInteger("bench.twin.warmups", 2);
        Path dir = Files.createTempDirectory("limit-store");
        Path file = dir.resolve("store.mv.db");
        MVStore store = new MVStore.Builder()
                .fileName(file.toString())
                .autoCommitDisabled()
                .autoCommitBufferSize(0)
                .cacheSize(CACHE_MB)
                .open();
        store.setRetentionTime(0); // as MvHubStore: old versions' space is reused at once
        store.setVersionsToKeep(0);
        try {
            // One map per bucket, named and typed as MvHubStore's.
            MVMap<String, byte[]> devices = null;
            MVMap<String, byte[]> records = null;
            for (HubStore.Bucket bucket : java.util.List.of(HubStore.Bucket.DEVICES, HubStore.Bucket.JOBS,
                    HubStore.Bucket.DEVICE_JOBS, HubStore.Bucket.META, HubStore.Bucket.MODULES)) {
                MVMap<String, byte[]> map = store.openMap(bucket.name().toLowerCase(Locale.ROOT),
                        new MVMap.Builder<String, byte[]>().keyType(StringDataType.INSTANCE).valueType(ByteArrayDataType.INSTANCE));
                if (bucket == HubStore.Bucket.DEVICES) {
                    devices = map;
                } else if (bucket == HubStore.Bucket.DEVICE_JOBS) {
                    records = map;
                }
            }
            store.commit();
            for (int first = 0; first < n; first += BATCH) { // the registration (not timed)
                for (int i = first; i < Math.min(n, first + BATCH); i++) {
                    devices.put(keys[i], registered[i]);
                }
                store.commit();
            }
            registered = null; // only the job's documents are needed from here on
            BenchOutput.info("limit-store: %d registered documents in the store (%d MB file), job documents %d bytes on average, "
                    + "%d per commit", n, Files.size(file) >> 20, updatedBytes / Math.max(1, n), BATCH);
            double coldSeconds = 0;
            double seconds = 0;
            for (int pass = 0; pass <= warmups; pass++) {
                byte[][] jobRecords = jobRecords(n, System.currentTimeMillis());
                String jobId = "limit-" + UUID.randomUUID();
                long start = System.nanoTime();
                for (int first = 0, b = 0; first < n; first += BATCH, b++) {
                    for (int i = first; i < Math.min(n, first + BATCH); i++) {
                        devices.put(keys[i], updated[i]);
                    }
                    records.put(String.format("b/%s/%09d", jobId, first), jobRecords[b]);
                    store.commit();
                }
                seconds = (System.nanoTime() - start) / 1e9;
                if (pass == 0) {
                    coldSeconds = seconds;
                }
                BenchOutput.info("limit-store %s: %.3f s (%.0f documents/s), store file %d MB",
                        pass < warmups ? "warm-up pass " + (pass + 1) : "measured pass", seconds, n / seconds,
                        Files.size(file) >> 20);
            }
            BenchOutput.bench("limit-store", n, seconds, BenchHub.heapAfterGcMb(), null, Double.NaN, n / coldSeconds);
            return new Limits.Result(n / seconds, n / coldSeconds);
        } finally {
            store.close();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /**
     * The job record each batch commits with its devices (as {@code JobCodec.encodeTwinBatch}: start and end
     * time and the batch's device indices), made before the clock starts.
     */
    private static byte[][] jobRecords(int n, long millis) {
        byte[][] records = new byte[(n + BATCH - 1) / BATCH][];
        for (int first = 0, b = 0; first < n; first += BATCH, b++) {
            var record = Json.object().put("st", millis).put("et", millis);
            var indices = record.putArray("idx");
            for (int i = first; i < Math.min(n, first + BATCH); i++) {
                indices.add(i);
            }
            records[b] = Json.bytes(record);
        }
        return records;
    }
}
