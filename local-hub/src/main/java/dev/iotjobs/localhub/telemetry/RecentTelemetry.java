package dev.iotjobs.localhub.telemetry;

import dev.iotjobs.localhub.model.ErrorCode;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The newest telemetry, hub-wide or of one device, for a page that polls: IoT Hub has no API to look at the
 * built-in endpoint without being an Event Hubs reader, so this is the hub's own read of its {@link TelemetryLog}.
 * <p>
 * A read returns the newest events (newest first, at most {@link #MAX_EVENTS}), a cursor (the next sequence number
 * of every partition) to pass back so the next read returns only what arrived since, and the number of matching
 * messages enqueued in the last minute (a rate). Its cost is bounded: at most {@link #MAX_SCANNED} events are
 * looked at per partition and read (one device's messages all lie in one partition, among its neighbours').
 */
public final class RecentTelemetry {
    /** Events one read returns at most. */
    public static final int MAX_EVENTS = 100;
    /** Events one read looks at per partition at most, newest first. */
    public static final int MAX_SCANNED = 10_000;
    /** The window of {@link Page#lastMinute()}. */
    public static final Duration RATE_WINDOW = Duration.ofMinutes(1);
    private static final int CHUNK = 512;

    private final TelemetryLog log;
    private final Clock clock;

    public RecentTelemetry(TelemetryLog log, Clock clock) {
        this.log = log;
        this.clock = clock;
    }

    /**
     * One read.
     *
     * @param events     the newest matching events, newest first
     * @param cursor     the next sequence number of each partition when read: pass it as {@code after} next time
     * @param more       true when matching events after {@code after} were left out (over the limit, or beyond the
     *                   events scanned): a page that polls fell behind and skipped them
     * @param lastMinute matching messages enqueued in the last minute ({@link #RATE_WINDOW})
     * @param lastMinuteExact false when counting stopped at {@link #MAX_SCANNED} events (then "at least")
     */
    public record Page(List<TelemetryEvent> events, long[] cursor, boolean more, long lastMinute,
                       boolean lastMinuteExact) {
        public double perSecond() {
            return lastMinute / (double) RATE_WINDOW.toSeconds();
        }
    }

    /**
     * The newest events of {@code deviceId} (its device's messages and its modules'; null: every device) after the
     * cursor {@code after} (null: the newest at all), at most {@code max} (1 to {@link #MAX_EVENTS}).
     */
    public Page read(String deviceId, long[] after, int max) {
        int partitions = log.partitionCount();
        if (max < 1 || max > MAX_EVENTS) {
            throw ErrorCode.ARGUMENT_INVALID.exception("top must be 1 to " + MAX_EVENTS + ", not " + max + ".");
        }
        if (after != null && after.length != partitions) {
            throw ErrorCode.ARGUMENT_INVALID.exception("The cursor must list " + partitions
                    + " sequence numbers (one per partition), as the previous answer's cursor did; it lists "
                    + after.length + ". Leave it out to read the newest events.");
        }
        if (deviceId != null && deviceId.isEmpty()) {
            deviceId = null;
        }
        long[] cursor = new long[partitions];
        for (int p = 0; p < partitions; p++) {
            cursor[p] = log.nextSequence(p);
        }
        long since = clock.millis() - RATE_WINDOW.toMillis();
        List<TelemetryEvent> found = new ArrayList<>();
        boolean more = false;
        long lastMinute = 0;
        boolean exact = true;
        for (int p = 0; p < partitions; p++) {
            if (deviceId != null && p != log.partitionOf(deviceId)) {
                continue;
            }
            long begin = log.beginSequence(p);
            long from = after == null ? begin : Math.max(begin, Math.min(after[p], cursor[p]));
            long recentFrom = log.sequenceAt(p, Instant.ofEpochMilli(since), true);
            if (deviceId == null) {
                lastMinute += cursor[p] - recentFrom;
            }
            // Newest first, chunk by chunk, until enough were found and the last minute is counted.
            List<TelemetryEvent> mine = new ArrayList<>();
            long scanned = 0;
            long hi = cursor[p];
            long stop = deviceId == null ? from : Math.min(from, recentFrom);
            while (hi > stop && scanned < MAX_SCANNED) {
                boolean enough = mine.size() >= max && (deviceId == null || hi <= recentFrom);
                if (enough) {
                    break;
                }
                long lo = Math.max(stop, hi - Math.min(CHUNK, MAX_SCANNED - scanned));
                List<TelemetryEvent> chunk = log.read(p, lo, (int) (hi - lo));
                for (int i = chunk.size() - 1; i >= 0; i--) {
                    TelemetryEvent e = chunk.get(i);
                    if (deviceId == null || deviceId.equals(e.message().identity().deviceId())) {
                        if (deviceId != null && e.sequenceNumber() >= recentFrom) {
                            lastMinute++;
                        }
                        if (e.sequenceNumber() >= from) {
                            if (mine.size() < max) {
                                mine.add(e);
                            } else {
                                more = true;
                            }
                        }
                    }
                }
                scanned += hi - lo;
                hi = lo;
            }
            if (hi > stop) {
                // Stopped early: older matching events may exist (skipped), and the count may be short.
                if (hi > from) {
                    more = true;
                }
                if (deviceId != null && hi > recentFrom) {
                    exact = false;
                }
            }
            found.addAll(mine);
        }
        found.sort(Comparator.comparing(TelemetryEvent::enqueuedTime).reversed()
                .thenComparing(Comparator.comparingLong(TelemetryEvent::sequenceNumber).reversed()));
        if (found.size() > max) {
            found = new ArrayList<>(found.subList(0, max));
            more = true;
        }
        return new Page(List.copyOf(found), cursor, more, lastMinute, exact);
    }
}
