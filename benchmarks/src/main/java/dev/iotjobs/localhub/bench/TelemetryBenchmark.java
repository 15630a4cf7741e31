package dev.iotjobs.localhub.bench;

import com.azure.messaging.eventhubs.EventHubClientBuilder;
import com.azure.messaging.eventhubs.EventHubConsumerAsyncClient;
import com.azure.messaging.eventhubs.models.EventPosition;
import com.azure.messaging.eventhubs.models.ReceiveOptions;
import dev.iotjobs.fleet.FleetDevices;
import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.IdentityKey;
import dev.iotjobs.localhub.telemetry.TelemetryLog;
import dev.iotjobs.localhub.telemetry.TelemetryMessage;
import dev.iotjobs.localhub.telemetry.TelemetryOptions;
import reactor.core.Disposable;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.iotjobs.localhub.bench.BenchOutput.info;

/**
 * The {@code telemetry} scenario: N simulated devices in the fleet's own JVM ({@link FleetProcess}) each send M
 * messages over MQTT (QoS 1, a PUBACK window per device, as fast as the hub acknowledges) while the unmodified
 * {@code EventHubConsumerAsyncClient} reads every partition of the built-in endpoint from the end. Prints
 * <pre>
 * BENCH telemetry messages=&lt;n&gt; devices=&lt;d&gt; seconds=&lt;s&gt; rate=&lt;messages/s read back&gt; ingestRate=&lt;messages/s acknowledged&gt;
 *       p50ms=&lt;x&gt; p99ms=&lt;y&gt; latencyAtRate=&lt;messages/s&gt; heapMBPerMillion=&lt;m&gt; diskMBPerMillion=&lt;m&gt;
 *       limit=&lt;messages/s&gt; ratio=&lt;rate/limit&gt;
 * </pre>
 * {@code seconds} runs from the fleet's start to the reader's last message. Latency is the device's send time (in
 * the message body, wall clock) to the reader's receipt; at full speed it is mostly the backlog (printed as an
 * information line), so p50/p99 come from a third, paced run at half the measured rate ({@code latencyAtRate}). {@code limit} is the telemetry log's raw append rate,
 * measured after the real scenario in the same JVM ({@link #measureLogAppend}): the same number of messages of
 * the same size, appended directly, with no network, MQTT, device edge or reader.
 */
final class TelemetryBenchmark {
    /** Body bytes per message (a small JSON reading, padded): {@code {"n":..,"sentMicros":..}}. */
    static final int BODY_BYTES = 100;
    /** Unacknowledged messages per device, as a device SDK keeps a few in flight. */
    static final int WINDOW = 16;
    private static final String MARK = "\"sentMicros\":";

    private TelemetryBenchmark() {
    }

    static void run(boolean full) throws Exception {
        // The Event Hubs client logs its links' life at WARN (activation, cancellation): errors only here.
        System.setProperty("org.slf4j.simpleLogger.log.com.azure", "error");
        int devices = Integer.getInteger("bench.telemetry.devices", full ? 10_000 : 1_000);
        int perDevice = Integer.getInteger("bench.telemetry.messages", full ? 100 : 200);
        long messages = (long) devices * perDevice;
        Result r = measure(devices, perDevice);
        double limit = measureLogAppend(devices, messages);
        double rate = messages / r.seconds;
        System.out.println(String.format(Locale.ROOT,
                "BENCH telemetry messages=%d devices=%d seconds=%.3f rate=%.0f ingestRate=%.0f p50ms=%.1f p99ms=%.1f"
                        + " latencyAtRate=%.0f heapMBPerMillion=%.0f diskMBPerMillion=%.0f limit=%.0f ratio=%.3f",
                messages, devices, r.seconds, rate, messages / r.ingestSeconds, r.p50Ms, r.p99Ms, r.pacedRate,
                r.heapMb * 1e6 / messages, r.diskMb * 1e6 / messages, limit, rate / limit));
    }

    private record Result(double seconds, double ingestSeconds, double p50Ms, double p99Ms, double heapMb, double diskMb,
                          double pacedRate) {
    }

    /** Reads every partition from its end; counts this run's messages and their latencies. */
    private static final class Reader implements AutoCloseable {
        final EventHubConsumerAsyncClient consumer;
        final List<Disposable> subscriptions = new ArrayList<>();
        volatile long[] latencyMicros = new long[0];
        final AtomicInteger received = new AtomicInteger();

        Reader(String connectionString) {
            consumer = new EventHubClientBuilder().connectionString(connectionString)
                    .consumerGroup(EventHubClientBuilder.DEFAULT_CONSUMER_GROUP_NAME)
                    .prefetchCount(4000).buildAsyncConsumerClient();
            for (String partition : consumer.getPartitionIds().collectList().block()) {
                subscriptions.add(consumer.receiveFromPartition(partition, EventPosition.latest(), new ReceiveOptions())
                        .subscribe(e -> {
                            long now = FleetSimulator.currentMicros();
                            long sent = sentMicros(e.getData().getBody());
                            int i = received.getAndIncrement();
                            long[] latencies = latencyMicros;
                            if (sent > 0 && i < latencies.length) {
                                latencies[i] = now - sent;
                            }
                        }));
            }
        }

        void expect(int messages) {
            latencyMicros = new long[messages];
            received.set(0);
        }

        boolean await(int messages, long timeoutSeconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            while (received.get() < messages && System.nanoTime() < deadline) {
                Thread.sleep(2);
            }
            return received.get() >= messages;
        }

        @Override
        public void close() {
            subscriptions.forEach(Disposable::dispose);
            consumer.close();
        }
    }

    /** The send time the fleet wrote in the body ({@code "sentMicros":<digits>}), or 0. */
    static long sentMicros(byte[] body) {
        String text = new String(body, 0, Math.min(body.length, 64), StandardCharsets.US_ASCII);
        int at = text.indexOf(MARK);
        if (at < 0) {
            return 0;
        }
        long v = 0;
        for (int i = at + MARK.length(); i < text.length() && Character.isDigit(text.charAt(i)); i++) {
            v = v * 10 + (text.charAt(i) - '0');
        }
        return v;
    }

    private static Result measure(int devices, int perDevice) throws Exception {
        try (BenchHub bench = new BenchHub()) {
            String run = "t" + UUID.randomUUID().toString().substring(0, 6);
            List<FleetSimulator.DeviceCredentials> credentials = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY)
                    .bulkCreate(run, devices, Json.object().put("bench", run));
            try (FleetProcess fleet = FleetProcess.start(credentials, bench.hub.mqttPort(), bench.hub.trustStore());
                 Reader reader = new Reader(bench.hub.eventHubsConnectionString())) {
                String line = fleet.awaitLine("CONNECTED");
                info("connected %d simulated devices in %s s (separate JVM); reading %d partitions with the Event Hubs client",
                        devices, line.split(" ")[2], bench.hub.telemetry().partitionCount());
                Thread.sleep(1000); // the receivers' links attach (they read from the end)
                // A warm-up run (the JIT compilers of the three JVMs settle), then the measured one.
                int warmup = Math.max(1, perDevice / 4);
                send(fleet, reader, devices, warmup, 0, "warm-up");
                long heapBefore = BenchHub.heapAfterGcMb();
                long diskBefore = bench.hub.telemetry().bytes();
                double[] timed = send(fleet, reader, devices, perDevice, 0, "measured");
                long[] saturated = reader.latencyMicros.clone();
                Arrays.sort(saturated);
                long heap = BenchHub.heapAfterGcMb() - heapBefore;
                long disk = bench.hub.telemetry().bytes() - diskBefore;
                info("heap after GC grew %d MB over the measured run; telemetry on disk grew %.1f MB (%d bytes per message)",
                        heap, disk / 1e6, disk / ((long) devices * perDevice));
                info("latency at full speed (a backlog: every device keeps %d messages in flight): p50 %.1f ms, p99 %.1f ms",
                        WINDOW, BenchOutput.percentile(saturated, 50) / 1e3, BenchOutput.percentile(saturated, 99) / 1e3);
                // Latency is then measured below capacity: half the rate just read back, paced per device, ~10 s.
                double pacedRate = 0.5 * devices * perDevice / timed[0];
                double perDeviceRate = pacedRate / devices;
                int pacedMessages = (int) Math.max(3, Math.round(perDeviceRate * 10));
                info("paced run: %.0f messages/s in all (%.2f per device and second), %d per device", pacedRate,
                        perDeviceRate, pacedMessages);
                send(fleet, reader, devices, pacedMessages, perDeviceRate, "paced");
                long[] latencies = reader.latencyMicros.clone();
                Arrays.sort(latencies);
                return new Result(timed[0], timed[1], BenchOutput.percentile(latencies, 50) / 1e3,
                        BenchOutput.percentile(latencies, 99) / 1e3, Math.max(0, heap), disk / (double) (1 << 20),
                        pacedRate);
            }
        }
    }

    /** One run; returns {seconds until read back, seconds until acknowledged}. */
    private static double[] send(FleetProcess fleet, Reader reader, int devices, int perDevice, double perDeviceRate,
                                 String what) throws Exception {
        int messages = devices * perDevice;
        reader.expect(messages);
        long start = System.nanoTime();
        fleet.command(String.format(Locale.ROOT, "TELEMETRY %d %.4f %d %d", perDevice, perDeviceRate, WINDOW, BODY_BYTES));
        String acked = fleet.awaitLine("TELEMETRY");
        if (!acked.startsWith("TELEMETRY ")) {
            throw new IllegalStateException("the fleet could not send its telemetry: " + acked);
        }
        double ingestSeconds = Double.parseDouble(acked.split(" ")[2]);
        if (!reader.await(messages, 600)) {
            throw new IllegalStateException("the reader got " + reader.received.get() + " of " + messages + " messages");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        info("%s: %d messages acknowledged in %.3f s by the fleet's clock (%.0f/s), all read back after %.3f s (%.0f/s)",
                what, messages, ingestSeconds, messages / ingestSeconds, seconds, messages / seconds);
        Thread.sleep(500);
        if (reader.received.get() != messages) {
            throw new IllegalStateException("the reader got " + reader.received.get() + " messages, not " + messages);
        }
        return new double[] {seconds, ingestSeconds};
    }

    /**
     * The telemetry log alone: {@code messages} messages of {@value #BODY_BYTES} body bytes from {@code devices}
     * device ids appended by two threads (the hub's event loops on two cores), at most 100,000 unacknowledged, into
     * a fresh log with the hub's default options. Returns messages per second (acknowledged = durable).
     */
    static double measureLogAppend(int devices, long messages) throws Exception {
        Path dir = Files.createTempDirectory("telemetry-limit");
        try (TelemetryLog log = TelemetryLog.open(dir, TelemetryOptions.DEFAULTS, Clock.systemUTC())) {
            byte[] body = new byte[BODY_BYTES];
            Arrays.fill(body, (byte) ' ');
            IdentityKey[] ids = new IdentityKey[devices];
            for (int d = 0; d < devices; d++) {
                ids[d] = IdentityKey.device("t-" + d);
            }
            Semaphore window = new Semaphore(100_000);
            AtomicInteger next = new AtomicInteger();
            long start = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            List<CompletableFuture<Void>> last = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                CompletableFuture<Void> done = new CompletableFuture<>();
                last.add(done);
                Thread thread = new Thread(() -> {
                    try {
                        CompletableFuture<Void> f = CompletableFuture.completedFuture(null);
                        for (int i; (i = next.getAndIncrement()) < messages; ) {
                            window.acquire();
                            f = log.append(new TelemetryMessage(ids[i % devices], body, Map.of("fleet", "1"), null, null,
                                    null, null, null, null, "sas", "1"));
                            f.whenComplete((v, e) -> window.release());
                        }
                        f.whenComplete((v, e) -> done.complete(null));
                    } catch (InterruptedException e) {
                        done.completeExceptionally(e);
                    }
                });
                threads.add(thread);
                thread.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            CompletableFuture.allOf(last.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
            window.acquire(100_000); // every append acknowledged
            double seconds = (System.nanoTime() - start) / 1e9;
            info("limit: the telemetry log alone appended %d messages in %.3f s (%.0f/s), %.1f MB on disk", messages, seconds,
                    messages / seconds, log.bytes() / 1e6);
            return messages / seconds;
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
