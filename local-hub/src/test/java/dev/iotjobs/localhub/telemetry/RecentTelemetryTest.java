package dev.iotjobs.localhub.telemetry;

import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.model.IdentityKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console's read of the telemetry log: newest first, per device, incremental by cursor, bounded, a rate. */
class RecentTelemetryTest {
    @TempDir
    Path tempDir;

    private static TelemetryMessage message(String device, String body) {
        return new TelemetryMessage(IdentityKey.device(device), body.getBytes(StandardCharsets.UTF_8),
                Map.of("n", body), null, null, null, null, null, null, "sas", "1");
    }

    private static void append(TelemetryLog log, String device, String body) throws Exception {
        CompletableFuture<Void> done = log.append(message(device, body));
        done.get(10, TimeUnit.SECONDS);
    }

    private static String body(TelemetryEvent e) {
        return new String(e.message().body(), StandardCharsets.UTF_8);
    }

    @Test
    void newestFirst_perDevice_thenOnlyWhatArrivedAfterTheCursor() throws Exception {
        TelemetryLogTest.TestClock clock = new TelemetryLogTest.TestClock();
        try (TelemetryLog log = TelemetryLog.open(tempDir, TelemetryOptions.DEFAULTS.withPartitions(2), clock)) {
            RecentTelemetry recent = new RecentTelemetry(log, clock);
            for (int i = 0; i < 5; i++) {
                clock.millis.addAndGet(10);
                append(log, "a", "a" + i);
                append(log, "b", "b" + i);
            }
            RecentTelemetry.Page all = recent.read(null, null, 4);
            assertEquals(4, all.events().size());
            assertEquals("b4", body(all.events().get(0)), "newest first");
            assertTrue(all.more(), "six older messages were left out");
            assertEquals(10, all.lastMinute());

            RecentTelemetry.Page a = recent.read("a", null, 100);
            assertEquals(5, a.events().size());
            assertTrue(a.events().stream().allMatch(e -> e.message().identity().deviceId().equals("a")));
            assertEquals("a4", body(a.events().get(0)));
            assertFalse(a.more());
            assertEquals(5, a.lastMinute());
            assertTrue(a.lastMinuteExact());

            RecentTelemetry.Page none = recent.read("a", a.cursor(), 100);
            assertEquals(0, none.events().size(), "nothing new after the cursor");
            append(log, "b", "b5");
            append(log, "a", "a5");
            RecentTelemetry.Page next = recent.read("a", a.cursor(), 100);
            assertEquals(1, next.events().size());
            assertEquals("a5", body(next.events().get(0)));
            assertEquals(2, recent.read(null, a.cursor(), 100).events().size());

            // The rate counts the last minute only.
            clock.millis.addAndGet(61_000);
            append(log, "a", "a6");
            assertEquals(1, recent.read("a", null, 100).lastMinute());
            assertEquals(1, recent.read(null, null, 100).lastMinute());
        }
    }

    @Test
    void refusesABadCursorOrSize() throws Exception {
        TelemetryLogTest.TestClock clock = new TelemetryLogTest.TestClock();
        try (TelemetryLog log = TelemetryLog.open(tempDir, TelemetryOptions.DEFAULTS.withPartitions(2), clock)) {
            RecentTelemetry recent = new RecentTelemetry(log, clock);
            HubException wrongLength = assertThrows(HubException.class, () -> recent.read(null, new long[]{0, 0, 0}, 10));
            assertTrue(wrongLength.getMessage().contains("2 sequence numbers"), wrongLength.getMessage());
            assertThrows(HubException.class, () -> recent.read(null, null, 0));
            assertThrows(HubException.class, () -> recent.read(null, null, RecentTelemetry.MAX_EVENTS + 1));
        }
    }

    @Test
    void aDeviceAmongManyIsFoundWithinTheScanBound() throws Exception {
        TelemetryLogTest.TestClock clock = new TelemetryLogTest.TestClock();
        try (TelemetryLog log = TelemetryLog.open(tempDir, TelemetryOptions.DEFAULTS.withPartitions(1), clock)) {
            RecentTelemetry recent = new RecentTelemetry(log, clock);
            append(log, "quiet", "old");
            CompletableFuture<?>[] all = new CompletableFuture<?>[RecentTelemetry.MAX_SCANNED + 10];
            for (int i = 0; i < all.length; i++) {
                all[i] = log.append(message("busy", "x" + i));
            }
            CompletableFuture.allOf(all).get(30, TimeUnit.SECONDS);
            RecentTelemetry.Page quiet = recent.read("quiet", null, 10);
            assertEquals(0, quiet.events().size(), "its message lies beyond the events one read looks at");
            assertTrue(quiet.more(), "and the answer says older messages may exist");
            assertFalse(quiet.lastMinuteExact());
        }
    }
}
