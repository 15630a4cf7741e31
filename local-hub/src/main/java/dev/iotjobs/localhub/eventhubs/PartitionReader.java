package dev.iotjobs.localhub.eventhubs;

import dev.iotjobs.localhub.telemetry.TelemetryEvent;
import dev.iotjobs.localhub.telemetry.TelemetryLog;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.proton.ProtonDelivery;
import io.vertx.proton.ProtonSender;
import io.vertx.proton.impl.ProtonDeliveryImpl;
import io.vertx.proton.impl.ProtonSenderImpl;
import org.apache.qpid.proton.amqp.transport.SenderSettleMode;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;

import java.nio.BufferOverflowException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One receiver link on a partition: a cursor into the telemetry log, advanced only as far as the client's link
 * credit allows. The hub holds no events for a reader beyond that credit (a slow reader costs nothing but its
 * cursor): new events are read from the log when credit arrives ({@code sendQueueDrainHandler}) or when the log
 * says the partition grew ({@link #wake()}, from the log's writer thread, handed to the link's event loop).
 *
 * <p>A batch of events goes out as one write: {@code ProtonSender.send} flushes the connection (a TLS record and a
 * socket write) for every message, which costs more than the message itself, so the reader does what it does per
 * delivery (tag, encoded bytes, settle if the link sends settled, advance, the delivery's settle-on-remote-settle
 * handler) through the link's proton delivery API and flushes once per batch. That needs vertx-proton's
 * implementation classes ({@code ProtonSenderImpl}, {@code ProtonDeliveryImpl}, public but not its API): check
 * this class against {@code ProtonSenderImpl.send} when the Vert.x version changes (EventHubsIT covers it).
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
    /**
     * What {@code ProtonSender.send} does when the peer updates a delivery of an auto-settling sender: settle it
     * locally once the peer settled it (so proton forgets it).
     */
    private static final Handler<ProtonDelivery> SETTLE_WHEN_REMOTELY_SETTLED = d -> {
        if (d.remotelySettled() && !d.isSettled()) {
            d.settle();
        }
    };

    private long next;
    private long tag;
    /** Reused encode buffer (grows to the largest message sent); the bytes are copied into proton per delivery. */
    private byte[] encoded = new byte[4096];

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
            ProtonSenderImpl link = (ProtonSenderImpl) sender;
            for (TelemetryEvent event : events) {
                Delivery delivery = link.delivery(nextTag());
                boolean presettled = delivery.getLink().getSenderSettleMode() == SenderSettleMode.SETTLED;
                int length = encode(EventMessages.of(event));
                ((Sender) delivery.getLink()).send(encoded, 0, length);
                if (presettled) {
                    delivery.settle();
                }
                link.advance();
                new ProtonDeliveryImpl(delivery).handler(SETTLE_WHEN_REMOTELY_SETTLED);
                next = event.sequenceNumber() + 1;
            }
            link.getSession().getConnectionImpl().flush();
        }
    }

    private byte[] nextTag() {
        long t = tag++;
        return new byte[] {(byte) (t >>> 24), (byte) (t >>> 16), (byte) (t >>> 8), (byte) t};
    }

    private int encode(Message message) {
        while (true) {
            try {
                return message.encode(encoded, 0, encoded.length);
            } catch (BufferOverflowException e) {
                encoded = new byte[encoded.length * 2];
            }
        }
    }
}
