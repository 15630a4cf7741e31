package dev.iotjobs.localhub.store;

import dev.iotjobs.localhub.store.HubStore.Bucket;
import dev.iotjobs.localhub.store.HubStore.Write;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The behaviour every {@link HubStore} must have; implementations' tests implement this interface. */
interface HubStoreContract {

    /** A fresh, empty store (closed by the test). */
    HubStore newStore() throws Exception;

    static byte[] doc(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    @Test
    default void putGetDelete() throws Exception {
        try (HubStore store = newStore()) {
            assertNull(store.get(Bucket.DEVICES, "d1"));
            store.put(Bucket.DEVICES, "d1", doc("{\"a\":1}"));
            assertEquals("{\"a\":1}", text(store.get(Bucket.DEVICES, "d1")));
            assertNull(store.get(Bucket.JOBS, "d1"), "buckets are separate");
            store.delete(Bucket.DEVICES, "d1");
            assertNull(store.get(Bucket.DEVICES, "d1"));
            store.delete(Bucket.DEVICES, "never-there"); // no-op
            assertEquals(0, store.count(Bucket.DEVICES));
        }
    }

    @Test
    default void overwriteReplaces() throws Exception {
        try (HubStore store = newStore()) {
            store.put(Bucket.JOBS, "j", doc("v1"));
            store.put(Bucket.JOBS, "j", doc("version two"));
            assertEquals("version two", text(store.get(Bucket.JOBS, "j")));
            assertEquals(1, store.count(Bucket.JOBS));
        }
    }

    /** put copies its array; putAll takes its arrays over (HubStore.putAll), so only put is checked here. */
    @Test
    default void arraysAreCopiedInAndOut() throws Exception {
        try (HubStore store = newStore()) {
            byte[] original = doc("abc");
            store.put(Bucket.META, "k", original);
            original[0] = 'X';
            byte[] read = store.get(Bucket.META, "k");
            read[1] = 'Y';
            assertEquals("abc", text(store.get(Bucket.META, "k")));
        }
    }

    @Test
    default void emptyDocumentIsNotAbsent() throws Exception {
        try (HubStore store = newStore()) {
            store.put(Bucket.META, "empty", new byte[0]);
            assertArrayEquals(new byte[0], store.get(Bucket.META, "empty"));
            assertEquals(1, store.count(Bucket.META));
        }
    }

    @Test
    default void forEachVisitsInKeyOrderAndCountCounts() throws Exception {
        try (HubStore store = newStore()) {
            List<String> keys = List.of("m", "a", "z", "device-10", "device-2", "B", "é", "a/b");
            for (String key : keys) {
                store.put(Bucket.DEVICE_JOBS, key, doc("v-" + key));
            }
            store.put(Bucket.DEVICES, "other-bucket", doc("x"));
            List<String> seen = new ArrayList<>();
            store.forEach(Bucket.DEVICE_JOBS, (key, value) -> {
                assertEquals("v-" + key, text(value));
                seen.add(key);
            });
            List<String> expected = new ArrayList<>(keys);
            expected.sort(null); // String natural order
            assertEquals(expected, seen);
            assertEquals(keys.size(), store.count(Bucket.DEVICE_JOBS));
            assertEquals(1, store.count(Bucket.DEVICES));
            assertEquals(0, store.count(Bucket.JOBS));
        }
    }

    @Test
    default void putAllAcrossBucketsWithDeletes() throws Exception {
        try (HubStore store = newStore()) {
            store.put(Bucket.DEVICES, "gone", doc("old"));
            store.put(Bucket.JOBS, "j1", doc("old"));
            store.putAll(List.of(
                    new Write(Bucket.DEVICES, "d1", doc("one")),
                    new Write(Bucket.DEVICES, "gone", null),
                    new Write(Bucket.JOBS, "j1", doc("new")),
                    new Write(Bucket.DEVICE_JOBS, "d1/j1", doc("dj")),
                    new Write(Bucket.META, "absent", null)));
            assertNull(store.get(Bucket.DEVICES, "gone"));
            assertEquals("one", text(store.get(Bucket.DEVICES, "d1")));
            assertEquals("new", text(store.get(Bucket.JOBS, "j1")));
            assertEquals("dj", text(store.get(Bucket.DEVICE_JOBS, "d1/j1")));
            assertEquals(1, store.count(Bucket.DEVICES));
            store.putAll(List.of()); // no-op
        }
    }

    @Test
    default void putAllAppliesInOrderWithinTheBatch() throws Exception {
        try (HubStore store = newStore()) {
            store.putAll(List.of(
                    new Write(Bucket.DEVICES, "k", doc("first")),
                    new Write(Bucket.DEVICES, "k", null),
                    new Write(Bucket.DEVICES, "k", doc("last"))));
            assertEquals("last", text(store.get(Bucket.DEVICES, "k")));
        }
    }

    @Test
    default void invalidWritesAreRejected() throws Exception {
        try (HubStore store = newStore()) {
            assertThrows(NullPointerException.class, () -> store.put(Bucket.DEVICES, null, doc("x")));
            assertThrows(NullPointerException.class, () -> store.put(null, "k", doc("x")));
            assertThrows(NullPointerException.class, () -> store.put(Bucket.DEVICES, "k", null));
            assertThrows(NullPointerException.class,
                    () -> store.putAll(List.of(new Write(Bucket.DEVICES, "ok", doc("x")), new Write(Bucket.DEVICES, null, doc("x")))));
            assertNull(store.get(Bucket.DEVICES, "ok"), "a rejected batch writes nothing");
            store.put(Bucket.DEVICES, "still-works", doc("y"));
            assertEquals("y", text(store.get(Bucket.DEVICES, "still-works")));
        }
    }

    @Test
    default void closedStoreRejectsUse() throws Exception {
        HubStore store = newStore();
        store.close();
        store.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> store.put(Bucket.DEVICES, "k", doc("x")));
        assertThrows(IllegalStateException.class, () -> store.get(Bucket.DEVICES, "k"));
    }

    @Test
    default void concurrentWritersAreAllVisible() throws Exception {
        int threads = 16;
        int perThread = 300;
        try (HubStore store = newStore()) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i++) {
                            String key = "t" + thread + "-" + i;
                            if (i % 10 == 0) {
                                store.putAll(List.of(new Write(Bucket.DEVICES, key, doc(key)),
                                        new Write(Bucket.JOBS, key, doc(key))));
                            } else {
                                store.put(Bucket.DEVICES, key, doc(key));
                            }
                            // Acknowledged writes are visible to the writer at once.
                            assertEquals(key, text(store.get(Bucket.DEVICES, key)));
                        }
                        return null;
                    }));
                }
                for (Future<?> future : futures) {
                    future.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals((long) threads * perThread, store.count(Bucket.DEVICES));
            assertEquals((long) threads * perThread / 10, store.count(Bucket.JOBS));
            for (int t = 0; t < threads; t++) {
                for (int i = 0; i < perThread; i++) {
                    String key = "t" + t + "-" + i;
                    assertEquals(key, text(store.get(Bucket.DEVICES, key)));
                }
            }
        }
    }
}
