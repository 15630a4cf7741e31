package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.c2d.C2dDelivery;
import dev.iotjobs.localhub.c2d.C2dMessage;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.edge.EdgeLink;
import dev.iotjobs.localhub.edge.EdgeSession;
import dev.iotjobs.localhub.model.IdentityKey;
import io.vertx.proton.ProtonLink;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.transport.AmqpError;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.time.Duration;

/**
 * One device or module on one AMQP connection, as the device edge sees it ({@link EdgeLink}): what the hub sends
 * (method calls, desired patches, cloud-to-device messages) goes out on the identity's links. The edge calls from
 * any thread; everything touching links runs on the connection's event loop. Link fields are written there only.
 */
final class AmqpDeviceSession implements EdgeLink {
    static final String METHOD_NAME = "IoThub-methodname";
    static final String METHOD_STATUS = "IoThub-status";
    private static final Symbol ENQUEUED_TIME = Symbol.valueOf("iothub-enqueuedtime");
    private static final Symbol SEQUENCE_NUMBER = Symbol.valueOf("x-opt-sequence-number");
    private static final Symbol LOCK_TOKEN = Symbol.valueOf("x-opt-lock-token");
    private static final Symbol DELIVERY_COUNT = Symbol.valueOf("iothub-deliverycount");

    final IdentityKey identity;
    final IotHubAmqpConnection connection;
    /** Set once the edge accepted the identity (on the event loop). */
    EdgeSession session;
    volatile ProtonSender twinSender;
    volatile ProtonSender methodRequests;
    volatile ProtonReceiver methodAnswers;
    volatile ProtonSender cloudToDevice;
    /** The edge's request ids by the AMQP correlation id the device answers with (a UUID, as the SDKs require). */
    final Map<UUID, String> methodRequestIds = new ConcurrentHashMap<>();
    final List<ProtonLink<?>> links = new ArrayList<>();
    /** Settles a C2D delivery the device disposed of: (lock token, outcome). Set by {@link DeviceLinks}. */
    BiConsumer<String, org.apache.qpid.proton.amqp.transport.DeliveryState> c2dOutcome;
    private boolean ended;
    /** Whether the edge session was started (after the identity's first link was answered). */
    boolean started;
    /** How long a C2D message handed to this device stays locked (the hub's lock duration: AMQP devices can abandon). */
    Duration c2dLockDuration;

    AmqpDeviceSession(IdentityKey identity, IotHubAmqpConnection connection) {
        this.identity = identity;
        this.connection = connection;
    }

    @Override
    public boolean methodRequest(String requestId, String methodName, byte[] payloadJson) {
        if (methodRequests == null || ended) {
            return false;
        }
        UUID correlation = UUID.randomUUID();
        methodRequestIds.put(correlation, requestId);
        connection.context().runOnContext(v -> {
            ProtonSender sender = methodRequests;
            if (sender == null || !sender.isOpen()) {
                methodRequestIds.remove(correlation);
                return;
            }
            Message request = Message.Factory.create();
            request.setMessageId(correlation.toString());
            request.setCorrelationId(correlation); // an AMQP uuid: the Java SDK answers with UUID.fromString of it
            request.setApplicationProperties(new ApplicationProperties(Map.of(METHOD_NAME, methodName)));
            request.setBody(new Data(new Binary(payloadJson)));
            connection.send(sender, request, null);
        });
        return true;
    }

    /** The edge's request id of a device's answer (removed), or null when unknown or late. */
    String takeMethodRequestId(Object correlationId) {
        UUID id;
        try {
            id = correlationId instanceof UUID u ? u : correlationId == null ? null : UUID.fromString(correlationId.toString());
        } catch (IllegalArgumentException e) {
            return null;
        }
        return id == null ? null : methodRequestIds.remove(id);
    }

    @Override
    public void desiredPatch(long version, byte[] patchJson) {
        connection.context().runOnContext(v -> {
            ProtonSender sender = twinSender;
            if (sender != null && sender.isOpen()) {
                // No correlation id: the Java and Node SDKs take such a twin message for a desired-property update.
                Message m = Message.Factory.create();
                Map<Symbol, Object> annotations = new HashMap<>();
                annotations.put(DeviceLinks.RESOURCE, "/properties/desired");
                annotations.put(DeviceLinks.VERSION, version);
                m.setMessageAnnotations(new MessageAnnotations(annotations));
                m.setBody(new Data(new Binary(patchJson)));
                connection.send(sender, m, null);
            }
        });
    }

    @Override
    public Duration c2dLock() {
        return c2dLockDuration;
    }

    @Override
    public boolean c2dMessage(C2dDelivery delivery) {
        if (cloudToDevice == null || ended) {
            return false;
        }
        connection.context().runOnContext(v -> {
            ProtonSender sender = cloudToDevice;
            if (sender == null || !sender.isOpen()) {
                c2dOutcome.accept(delivery.lockToken(), null); // released by the edge when the connection ends
                return;
            }
            boolean[] settled = {false};
            connection.send(sender, toAmqp(delivery), d -> {
                if (!settled[0] && (d.remotelySettled() || d.getRemoteState() != null)) {
                    settled[0] = true;
                    c2dOutcome.accept(delivery.lockToken(), d.getRemoteState());
                }
            });
        });
        return true;
    }

    /** A queued cloud-to-device message as IoT Hub delivers it: the service's properties, a Data body. */
    static Message toAmqp(C2dDelivery delivery) {
        C2dMessage c = delivery.message();
        Message m = Message.Factory.create();
        m.setMessageId(c.messageId());
        if (c.correlationId() != null) {
            m.setCorrelationId(c.correlationId());
        }
        m.setAddress("/devices/" + c.deviceId() + "/messages/devicebound");
        if (c.userId() != null) {
            m.setUserId(c.userId().getBytes(StandardCharsets.UTF_8));
        }
        if (c.contentType() != null) {
            m.setContentType(c.contentType());
        }
        if (c.contentEncoding() != null) {
            m.setContentEncoding(c.contentEncoding());
        }
        m.setCreationTime(c.enqueuedTime().toEpochMilli());
        m.setExpiryTime(c.expiryTime().toEpochMilli()); // absolute-expiry-time
        if (!c.properties().isEmpty()) {
            Map<String, Object> props = new LinkedHashMap<>();
            c.properties().forEach((k, val) -> props.put(k, val == null ? "" : val)); // a null value breaks the Java SDK
            m.setApplicationProperties(new ApplicationProperties(props));
        }
        Map<Symbol, Object> annotations = new HashMap<>();
        annotations.put(ENQUEUED_TIME, Date.from(c.enqueuedTime()));
        annotations.put(SEQUENCE_NUMBER, c.sequenceNumber());
        annotations.put(LOCK_TOKEN, delivery.lockToken());
        annotations.put(DELIVERY_COUNT, delivery.deliveryCount());
        m.setMessageAnnotations(new MessageAnnotations(annotations));
        m.setBody(new Data(new Binary(c.body())));
        return m;
    }

    @Override
    public void disconnect(String reason) {
        connection.context().runOnContext(v -> {
            Symbol condition = reason.contains("newer connection") ? AmqpErrors.LINK_STOLEN : AmqpError.UNAUTHORIZED_ACCESS;
            for (ProtonLink<?> link : List.copyOf(links)) {
                link.setCondition(new ErrorCondition(condition, "The hub closed this link of " + identity + ": "
                        + reason + " (" + WellKnownKeys.HOST_NAME + ")."));
                link.close();
            }
            links.clear();
            end();
        });
    }

    /** The identity's links are all gone (or the connection): the edge forgets this connection. */
    void end() {
        if (ended) {
            return;
        }
        ended = true;
        if (session != null) {
            session.closed();
        }
        connection.endpoint().devices().ended(this);
    }

    boolean ended() {
        return ended;
    }
}
