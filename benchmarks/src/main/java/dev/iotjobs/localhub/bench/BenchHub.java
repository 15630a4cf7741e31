package dev.iotjobs.localhub.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.throttle.Tier;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * A local hub for benchmarks, in this JVM, on free ports (so a benchmark never collides with a hub or a
 * test on 443/8883): the service SDK reaches it through the hub's CONNECT proxy, as on a machine where 443
 * is privileged. The store is the real durable one, in a fresh temporary directory.
 */
final class BenchHub implements AutoCloseable {
    final LocalHub hub;
    private final Path dataDir;
    /** Built after the JVM trusts the hub: an HttpClient keeps the SSL context it was built with. */
    private final HttpClient http;

    /** One data directory per benchmark run: the CA stays (the JVM trusts it once), the store is new per hub. */
    private static Path sharedDataDir;

    BenchHub() throws Exception {
        dataDir = dataDirectory();
        Files.deleteIfExists(DataDirectory.storeFile(dataDir));
        HubConfig.Builder config = HubConfig.builder().dataDirectory(dataDir).mqttPort(0).restPort(0).proxyPort(0)
                .alwaysProxy(true);
        String tier = System.getProperty("bench.tier"); // e.g. -Dbench.tier=S1 -Dbench.units=1: a tier's pacing
        if (tier != null) {
            config.tier(Tier.parse(tier)).units(Integer.getInteger("bench.units", 1));
        }
        hub = LocalHub.start(config.build());
        hub.configureThisJvm();
        http = HttpClient.newBuilder().proxy(ProxySelector.getDefault()).build();
    }

    /**
     * The benchmark run's data directory (created on first use, deleted at exit): its development CA is also the
     * one the limit-rpc scenario's minimal MQTT server presents, so the fleet trusts both with one trust store.
     */
    static synchronized Path dataDirectory() throws IOException {
        if (sharedDataDir == null) {
            sharedDataDir = Files.createTempDirectory("local-iothub-bench");
            Runtime.getRuntime().addShutdownHook(new Thread(BenchHub::deleteSharedDataDir));
        }
        return sharedDataDir;
    }

    /** Registers {@code prefix-0 .. prefix-(count-1)} with tags, 100 per bulk request, 8 requests at a time. */
    List<String> register(String prefix, int count, ObjectNode tags) throws Exception {
        List<String> ids = new ArrayList<>(count);
        Semaphore inFlight = new Semaphore(8);
        List<CompletableFuture<?>> calls = new ArrayList<>();
        String token = SasToken.create(WellKnownKeys.HOST_NAME, WellKnownKeys.IOTHUBOWNER_KEY, "iothubowner",
                Instant.now().getEpochSecond() + 24 * 3600);
        for (int start = 0; start < count; start += 100) {
            ArrayNode batch = Json.NODES.arrayNode();
            for (int i = start; i < Math.min(count, start + 100); i++) {
                ObjectNode d = batch.addObject();
                String id = prefix + "-" + i;
                d.put("id", id);
                d.put("importMode", "create");
                d.set("tags", tags);
                ids.add(id);
            }
            HttpRequest request = HttpRequest.newBuilder(URI.create("https://" + WellKnownKeys.HOST_NAME
                            + "/devices?api-version=2021-04-12"))
                    .header("Authorization", token).header("Content-Type", "application/json; charset=utf-8")
                    .POST(HttpRequest.BodyPublishers.ofString(Json.string(batch))).build();
            inFlight.acquire();
            calls.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((r, e) -> {
                inFlight.release();
                if (e != null || r.statusCode() != 200 || !r.body().contains("\"isSuccessful\":true")) {
                    throw new IllegalStateException("bulk create failed: " + (e != null ? e : r.body()));
                }
            }));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
        return ids;
    }

    /** Size of the hub's store file in MB (how much the store wrote: it only appends between compactions). */
    long storeFileMb() throws IOException {
        return Files.size(DataDirectory.storeFile(dataDir)) >> 20;
    }

    /** Heap in use after a full GC, in MB. */
    /**
     * Waits (at most a minute) for the store's idle housekeeping to settle the file's size, and says how big the
     * file got and how that compares with the live data.
     */
    String awaitCompactedStore() throws Exception {
        long start = System.nanoTime();
        long last = -1;
        long stableSince = start;
        while (System.nanoTime() - start < 120_000_000_000L) {
            long size = Files.size(DataDirectory.storeFile(dataDir));
            if (size != last) {
                last = size;
                stableSince = System.nanoTime();
            } else if (System.nanoTime() - stableSince > 10_000_000_000L) {
                break;
            }
            Thread.sleep(100);
        }
        return String.format(Locale.ROOT, "after %.1f s idle %d MB", (stableSince - start) / 1e9, last >> 20);
    }

    static long heapAfterGcMb() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024 * 1024);
    }

    @Override
    public void close() throws Exception {
        hub.stop();
        Files.deleteIfExists(DataDirectory.storeFile(dataDir));
    }

    private static void deleteSharedDataDir() {
        try (var files = Files.walk(sharedDataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: it is a temporary directory
        }
    }
}
