package dev.iotjobs.localhub.telemetry;

import dev.iotjobs.localhub.model.IdentityKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TelemetryLogTest {
    @TempDir
    Path tempDir;

    /** A clock the test moves. */
    static final class TestClock extends Clock {
        final AtomicLong millis = new AtomicLong(Instant.parse("2026-01-01T00:00:00Z").toEpochMilli());

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }
    }

    private static TelemetryMessage message(String device, String body) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("k", "v");
        props.put("ünïcode key", "välue");
        return new TelemetryMessage(IdentityKey.device(device), body.getBytes(StandardCharsets.UTF_8), props,
                "mid", "cid", "application/json", "utf-8", Instant.parse("2026-01-01T00:00:00.123456789Z"), "thermostat1",
                "sas", "638000000000000000");
    }

    private static void appendAll(TelemetryLog log, List<TelemetryMessage> messages) {
        CompletableFuture.allOf(messages.stream().map(log::append).toArray(CompletableFuture[]::new)).join();
    }

    @Test
    void eventsReadBackWithEveryFieldInOrderPerDevice() {
        try (TelemetryLog log = TelemetryLog.open(tempDir, TelemetryOptions.DEFAULTS, Clock.systemUTC())) {
            List<TelemetryMessage> sent = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                sent.add(message("dev" + (i % 7), "body-" + i));
            }
            appendAll(log, sent);
            Map<String, List<String>> bodies = new HashMap<>();
            int total = 0;
            for (int p = 0; p < log.partitionCount(); p++) {
                List<TelemetryEvent> events = log.read(p, 0, 1000);
                total += events.size();
                for (int i = 0; i < events.size(); i++) {
                    TelemetryEvent e = events.get(i);
                    assertEquals(i, e.sequenceNumber());
                    assertEquals(p, log.partitionOf(e.message().identity().deviceId()), "a device's events stay in its partition");
                    bodies.computeIfAbsent(e.message().identity().deviceId(), k -> new ArrayList<>())
                            .add(new String(e.message().body(), StandardCharsets.UTF_8));
                }
            }
            assertEquals(100, total);
            for (int d = 0; d < 7; d++) {
                List<String> expected = new ArrayList<>();
                for (int i = d; i < 100; i += 7) {
                    expected.add("body-" + i);
                }
                assertEquals(expected, bodies.get("dev" + d), "one device's events in the order sent");
            }
            TelemetryEvent e = log.read(log.partitionOf("dev0"), 0, 1).get(0);
            TelemetryMessage m = e.message();
            TelemetryMessage original = message("dev0", "body-0");
            assertArrayEquals(original.body(), m.body());
            assertEquals(original.applicationProperties(), m.applicationProperties());
            assertEquals(List.copyOf(original.applicationProperties().keySet()), List.copyOf(m.applicationProperties().keySet()));
            assertEquals(original.messageId(), m.messageId());
            assertEquals(original.correlationId(), m.correlationId());
            assertEquals(original.contentType(), m.contentType());
            assertEquals(original.contentEncoding(), m.contentEncoding());
            assertEquals(original.creationTime(), m.creationTime());
            assertEquals(original.componentName(), m.componentName());
            assertEquals(original.authMethod(), m.authMethod());
            assertEquals(original.authGenerationId(), m.authGenerationId());
        }
    }

    @Test
    void partitionOfADeviceIsStableAcrossInstances() {
        try (TelemetryLog log = TelemetryLog.open(tempDir, TelemetryOptions.DEFAULTS, Clock.systemUTC())) {
            // CRC-32 of the UTF-8 id modulo 4: fixed values, so a change of the hash is a visible decision.
            assertEquals(log.partitionOf("dev1"), log.partitionOf("dev1"));
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update("myDevice".getBytes(StandardCharsets.UTF_8));
            assertEquals((int) (crc.getValue() % 4), log.partitionOf("myDevice"));
        }
    }

    @Test
    void sequenceNumbersContinueAfterARestartAndTheEnqueuedTimeIsFound() {
        TestClock clock = new TestClock();
        TelemetryOptions one = TelemetryOptions.DEFAULTS.withPartitions(1);
        try (TelemetryLog log = TelemetryLog.open(tempDir, one, clock)) {
            for (int i = 0; i < 10; i++) {
                appendAll(log, List.of(message("d", "a" + i)));
                clock.millis.addAndGet(1000);
            }
        }
        try (TelemetryLog log = TelemetryLog.open(tempDir, one, clock)) {
            assertEquals(10, log.nextSequence(0));
            appendAll(log, List.of(message("d", "b")));
            List<TelemetryEvent> events = log.read(0, 0, 100);
            assertEquals(11, events.size());
            assertEquals(10, events.get(10).sequenceNumber());
            Instant third = events.get(2).enqueuedTime();
            assertEquals(2, log.sequenceAt(0, third, true));
            assertEquals(3, log.sequenceAt(0, third, false));
            assertEquals(3, log.sequenceAt(0, third.plusMillis(1), true));
            TelemetryLog.PartitionInfo info = log.info(0);
            assertEquals(0, info.beginSequenceNumber());
            assertEquals(10, info.lastEnqueuedSequenceNumber());
            assertFalse(info.empty());
        }
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TelemetryLog.open(tempDir, TelemetryOptions.DEFAULTS, clock));
        assertTrue(e.getMessage().contains("--telemetry-partitions 1"), e.getMessage());
    }

    @Test
    void retentionRemovesEventsOlderThanTheRetentionAndKeepsNumbering() throws Exception {
        TestClock clock = new TestClock();
        TelemetryOptions options = TelemetryOptions.DEFAULTS.withPartitions(1).withRetention(Duration.ofHours(1));
        try (TelemetryLog log = TelemetryLog.open(tempDir, options, clock)) {
            appendAll(log, List.of(message("d", "old-1"), message("d", "old-2")));
            clock.millis.addAndGet(Duration.ofMinutes(61).toMillis());
            appendAll(log, List.of(message("d", "new-1")));
            // The writer applies retention at least every second: wait for it.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (log.beginSequence(0) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(2, log.beginSequence(0));
            List<TelemetryEvent> events = log.read(0, 0, 10);
            assertEquals(List.of("new-1"), events.stream().map(e -> new String(e.message().body(), StandardCharsets.UTF_8)).toList());
            assertEquals(2, events.get(0).sequenceNumber());
            clock.millis.addAndGet(Duration.ofMinutes(61).toMillis());
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!log.info(0).empty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            TelemetryLog.PartitionInfo info = log.info(0);
            assertTrue(info.empty());
            assertEquals(2, info.lastEnqueuedSequenceNumber());
            assertEquals(3, info.beginSequenceNumber());
        }
        try (TelemetryLog log = TelemetryLog.open(tempDir, options, clock)) {
            assertEquals(3, log.nextSequence(0), "numbering survives a restart after everything expired");
        }
    }

    @Test
    void theSizeCapRemovesTheOldestEvents() throws Exception {
        TelemetryOptions options = TelemetryOptions.DEFAULTS.withPartitions(1).withMaxBytes(TelemetryOptions.MIN_MAX_BYTES);
        byte[] kilobyte = new byte[1024];
        try (TelemetryLog log = TelemetryLog.open(tempDir, options, Clock.systemUTC())) {
            for (int batch = 0; batch < 40; batch++) {
                List<TelemetryMessage> messages = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    messages.add(new TelemetryMessage(IdentityKey.device("d"), kilobyte, Map.of(), null, null, null, null,
                            null, null, "sas", "1"));
                }
                appendAll(log, messages);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (log.bytes() > options.maxBytes() + options.segmentBytes() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(log.bytes() <= options.maxBytes() + options.segmentBytes(), "bytes " + log.bytes());
            assertTrue(log.beginSequence(0) > 0);
            assertEquals(4000, log.nextSequence(0));
            assertEquals(log.beginSequence(0), log.read(0, 0, 1).get(0).sequenceNumber(), "reads start at the first kept");
        }
    }

    @Test
    void aTornTailIsCutOffOnOpen() throws Exception {
        TelemetryOptions one = TelemetryOptions.DEFAULTS.withPartitions(1);
        try (TelemetryLog log = TelemetryLog.open(tempDir, one, Clock.systemUTC())) {
            appendAll(log, List.of(message("d", "a"), message("d", "b")));
        }
        Path segment;
        try (Stream<Path> files = Files.list(tempDir.resolve("0"))) {
            segment = files.filter(p -> p.toString().endsWith(".seg")).findFirst().orElseThrow();
        }
        // Half a record, as a crash in the middle of a write leaves it (it was never acknowledged).
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.APPEND)) {
            channel.write(java.nio.ByteBuffer.wrap(new byte[]{0, 0, 0, 100, 1, 2, 3}));
        }
        try (TelemetryLog log = TelemetryLog.open(tempDir, one, Clock.systemUTC())) {
            assertEquals(2, log.nextSequence(0));
            appendAll(log, List.of(message("d", "c")));
            assertEquals(List.of("a", "b", "c"), log.read(0, 0, 10).stream()
                    .map(e -> new String(e.message().body(), StandardCharsets.UTF_8)).toList());
        }
    }

    @Test
    void aLogNeverWrittenReportsAnEmptyPartition() {
        try (TelemetryLog log = TelemetryLog.open(tempDir, TelemetryOptions.DEFAULTS, Clock.systemUTC())) {
            TelemetryLog.PartitionInfo info = log.info(3);
            assertTrue(info.empty());
            assertEquals(-1, info.lastEnqueuedSequenceNumber());
            assertNull(info.lastEnqueuedTime());
            assertTrue(log.read(3, 0, 10).isEmpty());
        }
    }

    /** Kills (SIGKILL) a child JVM appending as fast as it can; every event it saw acknowledged is in the log. */
    @Test
    void acknowledgedEventsSurviveKill9() throws Exception {
        Path dataDir = tempDir.resolve("killed");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path ackFile = tempDir.resolve("acks.txt");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                KillableTelemetryWriter.class.getName(), dataDir.toString())
                .redirectOutput(ackFile.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (Files.size(ackFile) < 200_000 && System.nanoTime() < deadline) {
                assertTrue(child.isAlive(), "the writer died by itself");
                Thread.sleep(10);
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        String output = Files.readString(ackFile);
        Map<String, Long> highestAcked = new HashMap<>();
        long acks = 0;
        for (String line : output.substring(0, output.lastIndexOf('\n') + 1).split("\n")) {
            if (line.startsWith("ACK ")) {
                String[] parts = line.split(" ");
                highestAcked.merge(parts[1], Long.parseLong(parts[2]), Math::max);
                acks++;
            }
        }
        assertTrue(acks > 1000, "only " + acks + " acknowledged");
        try (TelemetryLog log = TelemetryLog.open(dataDir, TelemetryOptions.DEFAULTS, Clock.systemUTC())) {
            Map<String, Long> next = new HashMap<>();
            for (int p = 0; p < log.partitionCount(); p++) {
                for (long seq = 0; ; ) {
                    List<TelemetryEvent> events = log.read(p, seq, 10_000);
                    if (events.isEmpty()) {
                        break;
                    }
                    for (TelemetryEvent e : events) {
                        String device = e.message().identity().deviceId();
                        long expected = next.getOrDefault(device, 0L);
                        assertArrayEquals(KillableTelemetryWriter.message(device, expected).body(), e.message().body(),
                                "a device's events in order, none missing, none corrupt");
                        next.put(device, expected + 1);
                    }
                    seq = events.get(events.size() - 1).sequenceNumber() + 1;
                }
            }
            for (Map.Entry<String, Long> acked : highestAcked.entrySet()) {
                assertTrue(next.getOrDefault(acked.getKey(), 0L) > acked.getValue(),
                        acked.getKey() + ": acknowledged up to " + acked.getValue() + ", stored " + next.get(acked.getKey()));
            }
        }
    }
}
