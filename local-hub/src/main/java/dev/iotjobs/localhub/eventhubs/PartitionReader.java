package dev.iotjobs.localhub.eventhubs;

import dev.iotjobs.localhub.telemetry.TelemetryEvent;
import dev.iotjobs.localhub.telemetry.TelemetryLog;
import io.vertx.core.Context;
import io.vertx.proton.ProtonSender;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One receiver link on a partition: a cursor into the telemetry log, advanced only as far as the client's link
 * credit allows. The hub holds no events for a reader beyond that credit (a slow reader costs nothing but its
 * cursor): new events are read from the log when credit arrives ({@code sendQueueDrainHandler}) or when the log
 * says the partition grew ({@link #wake()}, from the log's writer thread, handed to the link's event loop).
 */
final class PartitionReader {
    /** Events read from the log per go, at most. */
    private static final int BATCH = 256;

    final ProtonSender sender;
    final Context context;
    final int partition;
    final String consumerGroup;
    /** Owner level ({@code com.microsoft:epoch}), or null for a receiver without one. */
    final Long epoch;
    private final TelemetryLog log;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private long next;

    PartitionReader(ProtonSender sender, Context context, TelemetryLog log, int partition, String consumerGroup,
                    Long epoch, long firstSequence) {
        this.sender = sender;
        this.context = context;
        this.log = log;
        this.partition = partition;
        this.consumerGroup = consumerGroup;
        this.epoch = epoch;
        this.next = firstSequence;
    }

    /** Any thread: new events may be readable; pumps on the link's event loop (once per burst of calls). */
    void wake() {
        if (scheduled.compareAndSet(false, true)) {
            context.runOnContext(v -> {
                scheduled.set(false);
                pump();
            });
        }
    }

    /** Link's event loop: sends as many events as the credit allows. */
    void pump() {
        while (sender.isOpen()) {
            int credit = sender.getRemoteCredit();
            if (credit <= 0) {
                return;
            }
            List<TelemetryEvent> events = log.read(partition, next, Math.min(credit, BATCH));
            if (events.isEmpty()) {
                return;
            }
            for (TelemetryEvent event : events) {
                sender.send(EventMessages.of(event));
                next = event.sequenceNumber() + 1;
            }
        }
    }
}
