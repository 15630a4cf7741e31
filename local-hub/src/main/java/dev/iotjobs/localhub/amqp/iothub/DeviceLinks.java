package dev.iotjobs.localhub.amqp.iothub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.TwinService;
import dev.iotjobs.localhub.json.ErrorJson;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.model.IdentityKey;
import dev.iotjobs.localhub.telemetry.TelemetryMessage;
import dev.iotjobs.localhub.telemetry.TelemetrySink;
import io.vertx.core.WorkerExecutor;
import io.vertx.proton.ProtonDelivery;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The device and module links of the IoT Hub AMQP endpoint: telemetry, twin and direct methods, and
 * cloud-to-device messages, for the identity named by the link's address (the connection's claims were checked
 * before). The twin and methods links come in pairs (the client's sender and receiver on one address).
 */
final class DeviceLinks {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceLinks.class);
    static final Symbol OPERATION = Symbol.valueOf("operation");
    static final Symbol RESOURCE = Symbol.valueOf("resource");
    static final Symbol STATUS = Symbol.valueOf("status");
    static final Symbol VERSION = Symbol.valueOf("version");
    static final Symbol CHANNEL_CORRELATION_ID = Symbol.valueOf("com.microsoft:channel-correlation-id");
    static final String DESIRED_NOTIFICATIONS = "/notifications/twin/properties/desired";

    private final WorkerExecutor workers;
    private final DeviceRegistry devices;
    private final DeviceRegistry modules;
    private final TwinService deviceTwins;
    private final TwinService moduleTwins;
    private final TelemetrySink telemetry;
    private final AmqpDeviceChannels channels;

    DeviceLinks(WorkerExecutor workers, DeviceRegistry devices, DeviceRegistry modules, TwinService deviceTwins,
                TwinService moduleTwins, TelemetrySink telemetry, AmqpDeviceChannels channels) {
        this.workers = workers;
        this.devices = devices;
        this.modules = modules;
        this.deviceTwins = deviceTwins;
        this.moduleTwins = moduleTwins;
        this.telemetry = telemetry;
        this.channels = channels;
    }

    /** A link on which the device sends: telemetry, twin requests, method answers. */
    void openFromDevice(IotHubAmqpConnection c, ProtonReceiver receiver, LinkAddress address) {
        AmqpDeviceChannel channel = channels.attach(c, address.identity());
        channel.added(receiver);
        receiver.setAutoAccept(false);
        receiver.setPrefetch(0);
        receiver.setMaxMessageSize(new UnsignedLong(c.endpoint().limits().maxMessageBytes()));
        switch (address.kind()) {
            case TELEMETRY -> receiver.handler((delivery, message) -> onTelemetry(c, receiver, address.identity(), delivery, message));
            case TWIN -> receiver.handler((delivery, message) -> onTwinRequest(c, receiver, channel, delivery, message));
            case METHODS -> {
                channel.methodAnswers = receiver;
                receiver.handler((delivery, message) -> {
                    channel.onMethodAnswer(message);
                    delivery.disposition(Accepted.getInstance(), true);
                    receiver.flow(1);
                });
            }
            default -> throw new IllegalArgumentException(address.toString());
        }
        c.onLinkEnd(receiver, () -> channel.linkEnded(receiver));
        receiver.open();
        receiver.flow(c.endpoint().limits().receiveCredit());
        channels.readinessChanged(channel);
    }

    /** A link on which the hub sends to the device: C2D, twin answers and desired notifications, method requests. */
    void openToDevice(IotHubAmqpConnection c, ProtonSender sender, LinkAddress address) {
        AmqpDeviceChannel channel = channels.attach(c, address.identity());
        channel.added(sender);
        switch (address.kind()) {
            case TWIN -> channel.twinSender = sender;
            case METHODS -> channel.methodRequests = sender;
            case DEVICE_BOUND -> channel.openCloudToDevice(sender);
            default -> throw new IllegalArgumentException(address.toString());
        }
        c.onLinkEnd(sender, () -> channel.linkEnded(sender));
        sender.open();
        channels.readinessChanged(channel);
    }

    // ---- telemetry -----------------------------------------------------------------------------------------------

    private void onTelemetry(IotHubAmqpConnection c, ProtonReceiver receiver, IdentityKey identity,
                             ProtonDelivery delivery, Message message) {
        Device d = registryOf(identity).find(key(identity));
        TelemetryMessage t = telemetryMessage(identity, message, d);
        if (d != null) {
            d.runtime().telemetryReceived(devices.clock().instant());
        }
        telemetry.append(t).whenComplete((v, e) -> c.context().runOnContext(x -> {
            if (e == null) {
                delivery.disposition(Accepted.getInstance(), true);
            } else {
                HubException h = e.getCause() instanceof HubException he ? he : e instanceof HubException he2 ? he2
                        : ErrorCode.SERVER_ERROR.exception("The hub could not store the message.");
                delivery.disposition(IotHubAmqpConnection.rejected(AmqpErrors.condition(h), h.getMessage()), true);
            }
            if (receiver.isOpen()) {
                receiver.flow(1);
            }
        }));
    }

    static TelemetryMessage telemetryMessage(IdentityKey identity, Message m, Device d) {
        Map<String, String> app = new LinkedHashMap<>();
        Instant created = null;
        if (m.getApplicationProperties() != null && m.getApplicationProperties().getValue() != null) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) m.getApplicationProperties().getValue()).entrySet()) {
                String name = String.valueOf(e.getKey());
                String value = e.getValue() == null ? null : String.valueOf(e.getValue());
                if ("iothub-creation-time-utc".equals(name) && value != null) {
                    try {
                        created = Instant.parse(value);
                    } catch (DateTimeParseException ignored) {
                        // kept as an application property only
                    }
                }
                if (!name.startsWith("iothub-connection-")) {
                    app.put(name, value);
                }
            }
        }
        String component = null;
        if (m.getMessageAnnotations() != null && m.getMessageAnnotations().getValue() != null) {
            Object subject = m.getMessageAnnotations().getValue().get(Symbol.valueOf("dt-subject"));
            component = subject == null ? null : subject.toString();
        }
        return new TelemetryMessage(identity, AmqpBodies.bytes(m), app,
                m.getMessageId() == null ? null : m.getMessageId().toString(),
                m.getCorrelationId() == null ? null : m.getCorrelationId().toString(),
                m.getContentType(), m.getContentEncoding(), created, component,
                d == null ? "sas" : d.authType(), null);
    }

    // ---- twin ----------------------------------------------------------------------------------------------------

    private void onTwinRequest(IotHubAmqpConnection c, ProtonReceiver receiver, AmqpDeviceChannel channel,
                               ProtonDelivery delivery, Message request) {
        String operation = annotation(request, OPERATION);
        String resource = annotation(request, RESOURCE);
        IdentityKey identity = channel.identity;
        // Settled at once: the Java SDK holds its GET and PATCH until its PUT subscribe is settled.
        delivery.disposition(Accepted.getInstance(), true);
        if ("PUT".equals(operation) && DESIRED_NOTIFICATIONS.equals(resource)) {
            channel.desiredSubscribed = true;
            answerTwin(c, receiver, channel, request, () -> null, 200, false);
        } else if ("DELETE".equals(operation) && DESIRED_NOTIFICATIONS.equals(resource)) {
            channel.desiredSubscribed = false;
            answerTwin(c, receiver, channel, request, () -> null, 200, false);
        } else if ("GET".equals(operation)) {
            answerTwin(c, receiver, channel, request, () -> Json.bytes(twinsOf(identity).deviceGet(key(identity))), 200, false);
        } else if ("PATCH".equals(operation) && "/properties/reported".equals(resource)) {
            byte[] body = AmqpBodies.bytes(request);
            String expected = annotation(request, VERSION);
            answerTwin(c, receiver, channel, request, () -> {
                JsonNode patch;
                try {
                    patch = Json.MAPPER.readTree(body);
                } catch (IOException e) {
                    throw ErrorCode.IOTHUB_FORMAT_ERROR.exception("Malformed JSON in reported properties.");
                }
                Long version = null;
                if (expected != null) {
                    try {
                        version = Long.parseLong(expected);
                    } catch (NumberFormatException e) {
                        throw ErrorCode.ARGUMENT_INVALID.exception("version '" + expected + "' is not a number.");
                    }
                }
                return Long.toString(twinsOf(identity).patchReported(key(identity), patch, version)).getBytes();
            }, 204, true);
        } else {
            answerTwin(c, receiver, channel, request, () -> {
                throw ErrorCode.GENERIC_BAD_REQUEST.exception("Unsupported twin operation '" + operation
                        + "' on resource '" + resource + "'; IoT Hub supports GET, PATCH /properties/reported and "
                        + "PUT or DELETE " + DESIRED_NOTIFICATIONS + ".");
            }, 200, false);
        }
    }

    private void answerTwin(IotHubAmqpConnection c, ProtonReceiver receiver, AmqpDeviceChannel channel, Message request,
                            Callable<byte[]> operation, int okStatus, boolean resultIsVersion) {
        Object correlationId = request.getCorrelationId();
        workers.executeBlocking(operation, false).onComplete(ar -> {
            if (receiver.isOpen()) {
                receiver.flow(1);
            }
            if (correlationId == null) {
                return; // nothing to correlate an answer with
            }
            Message answer = Message.Factory.create();
            answer.setCorrelationId(correlationId);
            Map<Symbol, Object> annotations = new HashMap<>();
            if (ar.succeeded()) {
                annotations.put(STATUS, okStatus);
                byte[] result = ar.result();
                if (resultIsVersion) {
                    annotations.put(VERSION, Long.parseLong(new String(result)));
                    answer.setBody(new Data(new Binary(new byte[0])));
                } else {
                    answer.setBody(new Data(new Binary(result == null ? new byte[0] : result)));
                }
            } else {
                HubException e = ar.cause() instanceof HubException h ? h : ErrorCode.SERVER_ERROR.exception("Internal error");
                if (!(ar.cause() instanceof HubException)) {
                    LOG.warn("Twin operation of {} failed", channel.identity, ar.cause());
                }
                annotations.put(STATUS, e.errorCode().httpStatus());
                answer.setBody(new Data(new Binary(Json.bytes(ErrorJson.of(e)))));
            }
            answer.setMessageAnnotations(new MessageAnnotations(annotations));
            channel.sendTwin(answer);
        });
    }

    static String annotation(Message m, Symbol key) {
        if (m.getMessageAnnotations() == null || m.getMessageAnnotations().getValue() == null) {
            return null;
        }
        Object v = m.getMessageAnnotations().getValue().get(key);
        return v == null ? null : v.toString();
    }

    /** The desired-property notification the Java and Node SDKs recognise: no correlation id, the patch as body. */
    static Message desiredNotification(ObjectNode patchWithVersion) {
        Message m = Message.Factory.create();
        Map<Symbol, Object> annotations = new HashMap<>();
        annotations.put(RESOURCE, "/properties/desired");
        annotations.put(VERSION, patchWithVersion.path("$version").asLong());
        m.setMessageAnnotations(new MessageAnnotations(annotations));
        m.setBody(new Data(new Binary(Json.bytes(patchWithVersion))));
        return m;
    }

    private DeviceRegistry registryOf(IdentityKey identity) {
        return identity.isModule() ? modules : devices;
    }

    private TwinService twinsOf(IdentityKey identity) {
        return identity.isModule() ? moduleTwins : deviceTwins;
    }

    /** The registries' key: {@code deviceId}, or {@code deviceId/moduleId}. */
    static String key(IdentityKey identity) {
        return identity.toString();
    }
}
