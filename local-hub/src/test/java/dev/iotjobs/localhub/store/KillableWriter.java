package dev.iotjobs.localhub.store;

import dev.iotjobs.localhub.config.DataDirectory;

import dev.iotjobs.localhub.store.HubStore.Bucket;
import dev.iotjobs.localhub.store.HubStore.Write;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Child process of {@link MvHubStoreCrashIT#acknowledgedWritesSurviveKill9}: writes from several threads
 * and prints {@code ACK <key>} only after the write returned, until it is killed.
 * Batches print {@code BATCH <prefix> <size>} once acknowledged, their keys being {@code <prefix>-<n>}.
 */
public final class KillableWriter {
    static final int THREADS = 4;
    static final int BATCH_SIZE = 5;

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        MvHubStore store = MvHubStore.open(DataDirectory.storeFile(dataDir));
        synchronized (out) {
            out.println("OPEN");
            out.flush();
        }
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            Thread writer = new Thread(() -> {
                for (int i = 0; ; i++) {
                    String key = "t" + thread + "-" + i;
                    if (i % 10 == 9) {
                        List<Write> batch = new ArrayList<>();
                        for (int n = 0; n < BATCH_SIZE; n++) {
                            batch.add(new Write(n % 2 == 0 ? Bucket.JOBS : Bucket.DEVICE_JOBS, key + "-" + n, document(key + "-" + n)));
                        }
                        store.putAll(batch);
                        print(out, "BATCH " + key + " " + BATCH_SIZE);
                    } else {
                        store.put(Bucket.DEVICES, key, document(key));
                        print(out, "ACK " + key);
                    }
                }
            });
            writer.start();
            threads.add(writer);
        }
        for (Thread thread : threads) {
            thread.join();
        }
    }

    /** About 500 bytes, like a twin, and derived from the key so the parent can check the content. */
    static byte[] document(String key) {
        StringBuilder json = new StringBuilder("{\"deviceId\":\"").append(key).append("\",\"tags\":{");
        while (json.length() < 480) {
            json.append("\"p").append(json.length()).append("\":\"").append(key).append("\",");
        }
        return json.append("\"end\":true}}").toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void print(PrintStream out, String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }
}
