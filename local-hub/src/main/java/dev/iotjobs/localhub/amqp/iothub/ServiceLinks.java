package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.c2d.C2dAck;
import dev.iotjobs.localhub.c2d.C2dQueues;
import dev.iotjobs.localhub.c2d.C2dSend;
import dev.iotjobs.localhub.c2d.FeedbackBatch;
import dev.iotjobs.localhub.edge.DeviceEdge;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import io.vertx.core.WorkerExecutor;
import io.vertx.proton.ProtonDelivery;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The service links of the IoT Hub AMQP endpoint (a connection whose put-token is a hub policy with
 * ServiceConnect), over the core's cloud-to-device queues: messages the service sends, the delivery feedback it
 * reads, and file-upload notifications (a link that works and never carries one: file uploads are not emulated).
 */
final class ServiceLinks {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceLinks.class);
    /** How often an idle feedback link looks for a new batch (feedback is batched over seconds anyway). */
    private static final long FEEDBACK_POLL_MILLIS = 250;

    private final WorkerExecutor workers;
    private final C2dQueues c2d;
    /** Asked only for the tier's cloud-to-device sends throttle (none without a tier). */
    private final DeviceEdge edge;

    ServiceLinks(WorkerExecutor workers, C2dQueues c2d, DeviceEdge edge) {
        this.workers = workers;
        this.c2d = c2d;
        this.edge = edge;
    }

    // ---- C2D send ------------------------------------------------------------------------------------------------

    /**
     * {@code /messages/devicebound}: each message is routed by its {@code to} ({@code /devices/{id}/messages/devicebound})
     * and Accepted once queued, or Rejected with IoT Hub's condition: {@code amqp:not-found} for an unknown
     * device, {@code amqp:resource-limit-exceeded} for a full queue, {@code amqp:link:message-size-exceeded} over
     * 64 KB, {@code amqp:invalid-field} for a bad {@code to} or expiry.
     */
    void openCloudToDevice(IotHubAmqpConnection c, ProtonReceiver receiver) {
        receiver.setAutoAccept(false);
        receiver.setPrefetch(0);
        receiver.setMaxMessageSize(new UnsignedLong(c.endpoint().limits().maxMessageBytes()));
        receiver.handler((delivery, message) -> {
            C2dSend send;
            try {
                send = toSend(message);
            } catch (HubException e) {
                reject(delivery, e);
                receiver.flow(1);
                return;
            }
            // With a tier, the send waits for its turn or is refused (429001, Rejected as throttled) first.
            CompletableFuture<Void> admitted = edge.admitCloudToDeviceSend(send.body().length);
            io.vertx.core.Future<Void> turn = admitted.isDone() && !admitted.isCompletedExceptionally()
                    ? io.vertx.core.Future.succeededFuture() : io.vertx.core.Future.fromCompletionStage(admitted, c.context());
            turn.compose(v -> workers.executeBlocking(() -> c2d.send(send), false)).onComplete(ar -> {
                if (ar.succeeded()) {
                    delivery.disposition(Accepted.getInstance(), true);
                } else if (ar.cause() instanceof HubException e) {
                    reject(delivery, e);
                } else {
                    LOG.warn("Cloud-to-device message to {} failed", send.deviceId(), ar.cause());
                    reject(delivery, ErrorCode.SERVER_ERROR.exception("The hub could not queue the message."));
                }
                if (receiver.isOpen()) {
                    receiver.flow(1);
                }
            });
        });
        receiver.open();
        receiver.flow(c.endpoint().limits().receiveCredit());
    }

    private static void reject(ProtonDelivery delivery, HubException e) {
        delivery.disposition(IotHubAmqpConnection.rejected(AmqpErrors.condition(e),
                e.errorCode().code() + ": " + e.getMessage()), true);
    }

    static C2dSend toSend(Message m) {
        String to = m.getAddress();
        LinkAddress address = LinkAddress.parse(to);
        if (address.kind() != LinkAddress.Kind.DEVICE_BOUND) {
            throw ErrorCode.ARGUMENT_INVALID.exception("The message's 'to' is '" + to
                    + "'; a cloud-to-device message must be addressed to /devices/{deviceId}/messages/devicebound.");
        }
        if (address.identity().isModule()) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Cloud-to-device messages to modules are not supported by "
                    + "IoT Hub; address the device (/devices/{deviceId}/messages/devicebound).");
        }
        Map<String, String> properties = new LinkedHashMap<>();
        String ack = null;
        if (m.getApplicationProperties() != null && m.getApplicationProperties().getValue() != null) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) m.getApplicationProperties().getValue()).entrySet()) {
                String name = String.valueOf(e.getKey());
                String value = e.getValue() == null ? null : e.getValue().toString();
                if ("iothub-ack".equals(name)) {
                    ack = value;
                } else if (value != null) {
                    properties.put(name, value);
                }
            }
        }
        Binary userId = m.getUserId() == null ? null : new Binary(m.getUserId());
        long expiry = m.getExpiryTime();
        return new C2dSend(address.identity().deviceId(), AmqpBodies.bytes(m), properties,
                m.getMessageId() == null ? null : m.getMessageId().toString(),
                m.getCorrelationId() == null ? null : m.getCorrelationId().toString(),
                userId == null ? null : new String(userId.getArray(), userId.getArrayOffset(), userId.getLength(), StandardCharsets.UTF_8),
                m.getContentType(), m.getContentEncoding(), C2dAck.parse(ack),
                expiry > 0 ? Instant.ofEpochMilli(expiry) : null);
    }

    // ---- feedback and file notifications -------------------------------------------------------------------------

    /** {@code /messages/serviceBound/feedback} and {@code .../filenotifications}: the hub sends to the service. */
    void openToService(IotHubAmqpConnection c, ProtonSender sender, LinkAddress address) {
        sender.open();
        if (address.kind() != LinkAddress.Kind.FEEDBACK) {
            return; // file uploads are not emulated: the notification link works and stays quiet
        }
        FeedbackPump pump = new FeedbackPump(c, sender);
        long timer = c.vertx().setPeriodic(FEEDBACK_POLL_MILLIS, t -> pump.poll());
        c.onLinkEnd(sender, () -> c.vertx().cancelTimer(timer));
        c.onClose(() -> c.vertx().cancelTimer(timer));
    }

    /**
     * Hands the service one feedback batch at a time while it gives credit: Accepted (the processor's COMPLETE)
     * removes it, anything else (ABANDON) puts it back for the next reader; a batch whose lock expires unsettled
     * comes back too.
     */
    private final class FeedbackPump {
        private final IotHubAmqpConnection c;
        private final ProtonSender sender;
        private boolean busy;

        FeedbackPump(IotHubAmqpConnection c, ProtonSender sender) {
            this.c = c;
            this.sender = sender;
        }

        void poll() {
            if (busy || !sender.isOpen() || sender.getCredit() <= 0 || c.isClosed()) {
                return;
            }
            busy = true;
            workers.executeBlocking(() -> c2d.feedback().receive(), false).onComplete(ar -> {
                FeedbackBatch batch = ar.succeeded() ? ar.result() : null;
                if (batch == null) {
                    busy = false;
                    return;
                }
                if (!sender.isOpen()) {
                    settle(batch, null);
                    return;
                }
                Message m = Message.Factory.create();
                m.setMessageId(batch.messageId());
                m.setContentType(FeedbackBatch.CONTENT_TYPE);
                m.setUserId(WellKnownKeys.HOST_NAME.getBytes(StandardCharsets.US_ASCII));
                m.setCreationTime(batch.enqueuedTime().toEpochMilli());
                m.setBody(new Data(new Binary(batch.body()))); // compact ASCII JSON: the Java SDK reads Binary.toString()
                boolean[] settled = {false};
                sender.send(m, d -> {
                    if (!settled[0] && (d.remotelySettled() || d.getRemoteState() != null)) {
                        settled[0] = true;
                        settle(batch, d.getRemoteState());
                    }
                });
            });
        }

        private void settle(FeedbackBatch batch, DeliveryState outcome) {
            workers.executeBlocking(() -> {
                if (outcome instanceof Accepted) {
                    c2d.feedback().complete(batch.lockToken());
                } else {
                    c2d.feedback().abandon(batch.lockToken());
                }
                return null;
            }, false).onComplete(ar -> {
                if (ar.failed()) {
                    LOG.info("Feedback batch {} not settled: {}", batch.messageId(), ar.cause().getMessage());
                }
                busy = false;
            });
        }
    }
}
