package dev.iotjobs.localhub.mqtt;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.auth.DeviceAuthenticator;
import dev.iotjobs.localhub.json.ErrorJson;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.ModuleIds;
import dev.iotjobs.localhub.device.TwinService;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.MqttSubscribeMessage;
import io.vertx.mqtt.MqttTopicSubscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The device side of IoT Hub over MQTT 3.1.1: CONNECT with a device SAS token, the IoT Hub topics for
 * twins, direct methods and telemetry. Runs on Vert.x event loops; anything that commits to the store
 * runs on the worker pool and answers back on the connection's own context.
 */
public final class MqttDeviceHandler {
    private static final Logger LOG = LoggerFactory.getLogger(MqttDeviceHandler.class);

    private final Vertx vertx;
    private final WorkerExecutor workers;
    private final DeviceAuthenticator authenticator;
    private final DeviceRegistry registry;
    private final TwinService twins;
    private final SessionRegistry sessions;
    private final ModuleClients modules;
    private final Clock clock;
    /** One outbox per event loop (the listeners' contexts), shared by the devices connected through it. */
    private final java.util.Map<Context, EventLoopOutbox> outboxes = new java.util.concurrent.ConcurrentHashMap<>();

    public MqttDeviceHandler(Vertx vertx, WorkerExecutor workers, DeviceAuthenticator authenticator,
                             DeviceRegistry registry, TwinService twins, SessionRegistry sessions,
                             ModuleClients modules) {
        this.vertx = vertx;
        this.workers = workers;
        this.authenticator = authenticator;
        this.registry = registry;
        this.twins = twins;
        this.sessions = sessions;
        this.modules = modules;
        this.clock = registry.clock();
    }

    public void handle(MqttEndpoint endpoint) {
        String deviceId = endpoint.clientIdentifier();
        String username = endpoint.auth() == null ? null : endpoint.auth().getUsername();
        String password = endpoint.auth() == null ? null : endpoint.auth().getPassword();
        // A module client's id is deviceId/moduleId (issue 15); anything else with a '/' is refused.
        if (deviceId == null || deviceId.isEmpty() || deviceId.contains("/") && !ModuleIds.isModuleKey(deviceId)) {
            endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED);
            return;
        }
        if (username == null || !usernameNamesDevice(username, deviceId)) {
            endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD);
            return;
        }
        DeviceAuthenticator.Result auth = isModule(deviceId)
                ? modules.authenticator().authenticate(deviceId, password)
                : authenticator.authenticate(deviceId, password);
        if (!auth.accepted()) {
            LOG.info("Refused MQTT connection of {}: {}", deviceId, auth.reason());
            endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED);
            return;
        }
        // The connection's own event-loop context: answers to this device are written from it.
        EventLoopOutbox outbox = outboxes.computeIfAbsent(vertx.getOrCreateContext(), EventLoopOutbox::new);
        DeviceSession session = sessions.session(deviceId);
        MqttEndpoint previous = session.attach(endpoint, outbox);
        if (previous != null) {
            // IoT Hub keeps one connection per device: the newer one wins (400027 on the old one).
            LOG.info("Device {} connected again: closing its previous connection", deviceId);
            previous.close();
        }
        endpoint.publishAutoAck(false);
        endpoint.subscribeHandler(sub -> onSubscribe(endpoint, session, sub));
        endpoint.unsubscribeHandler(unsub -> endpoint.unsubscribeAcknowledge(unsub.messageId()));
        endpoint.publishHandler(msg -> onPublish(endpoint, session, msg));
        endpoint.closeHandler(v -> onClose(endpoint, session));
        endpoint.exceptionHandler(e -> LOG.debug("MQTT connection of {} failed: {}", deviceId, e.toString()));
        endpoint.accept(!session.subscriptions.isEmpty());
        runtimeChanged(deviceId, true);
        sessions.methodReadinessChanged(session);
        // IoT Hub disconnects a device when its SAS token expires; the SDK then reconnects with a new one.
        long millisLeft = (auth.expiryEpochSeconds() - clock.instant().getEpochSecond() + 1) * 1000;
        if (millisLeft < Long.MAX_VALUE / 2) {
            vertx.setTimer(Math.max(1, millisLeft), t -> {
                if (endpoint.isConnected()) {
                    LOG.info("SAS token of device {} expired: disconnecting it", deviceId);
                    endpoint.close();
                }
            });
        }
    }

    /** The username is {@code {host}/{deviceId}/?api-version=...}; the host part is not checked. */
    private static boolean usernameNamesDevice(String username, String deviceId) {
        int query = username.indexOf("/?");
        String head = query < 0 ? username : username.substring(0, query);
        return head.endsWith("/" + deviceId);
    }

    private void onSubscribe(MqttEndpoint endpoint, DeviceSession session, MqttSubscribeMessage sub) {
        List<MqttQoS> granted = new ArrayList<>();
        boolean changed = false;
        for (MqttTopicSubscription t : sub.topicSubscriptions()) {
            if (DeviceTopics.maySubscribe(session.deviceId, t.topicName())) {
                changed |= session.subscriptions.add(t.topicName());
                granted.add(t.qualityOfService() == MqttQoS.AT_MOST_ONCE ? MqttQoS.AT_MOST_ONCE : MqttQoS.AT_LEAST_ONCE);
            } else {
                LOG.info("Device {} may not subscribe to {}", session.deviceId, t.topicName());
                granted.add(MqttQoS.FAILURE);
            }
        }
        if (!changed) {
            endpoint.subscribeAcknowledge(sub.messageId(), granted);
            return;
        }
        // The session is committed before the SUBACK, so it survives a hub restart once acknowledged.
        workers.executeBlocking(() -> {
            sessions.persist(session);
            return null;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                LOG.warn("Could not store the session of {}", session.deviceId, ar.cause());
            }
            if (endpoint.isConnected()) {
                endpoint.subscribeAcknowledge(sub.messageId(), granted);
            }
            sessions.methodReadinessChanged(session);
        });
    }

    private void onPublish(MqttEndpoint endpoint, DeviceSession session, MqttPublishMessage msg) {
        String topic = msg.topicName();
        String deviceId = session.deviceId;
        if (msg.qosLevel() == MqttQoS.EXACTLY_ONCE) {
            endpoint.close(); // IoT Hub does not support QoS 2 and closes the connection
            return;
        }
        if (DeviceTopics.isTelemetry(deviceId, topic)) {
            ack(endpoint, msg);
            Device d = registryOf(deviceId).find(deviceId);
            if (d != null) {
                d.runtime().telemetryReceived(clock.instant());
            }
        } else if (topic.startsWith(DeviceTopics.TWIN_GET_PREFIX)) {
            LOG.debug("Device {} twin GET {}", deviceId, topic);
            ack(endpoint, msg);
            String rid = DeviceTopics.param(topic, "$rid");
            answerTwin(session, rid, () -> Json.bytes(twinsOf(deviceId).deviceGet(deviceId)), 200, false);
        } else if (topic.startsWith(DeviceTopics.REPORTED_PREFIX)) {
            ack(endpoint, msg);
            String rid = DeviceTopics.param(topic, "$rid");
            String version = DeviceTopics.param(topic, "$version");
            byte[] body = msg.payload().getBytes();
            answerTwin(session, rid, () -> {
                Long expected = version == null ? null : parseVersion(version);
                return Long.toString(twinsOf(deviceId).patchReported(deviceId, parseReported(body), expected)).getBytes();
            }, 204, true);
        } else if (topic.startsWith(DeviceTopics.METHOD_RESPONSE_PREFIX)) {
            ack(endpoint, msg);
            onMethodResponse(session, topic, msg.payload().getBytes());
        } else {
            // Another device's topic, or one IoT Hub does not know: IoT Hub drops the connection.
            LOG.info("Device {} published to a topic it may not use ({}): disconnecting it", deviceId, topic);
            endpoint.close();
        }
    }

    private static void ack(MqttEndpoint endpoint, MqttPublishMessage msg) {
        if (msg.qosLevel() == MqttQoS.AT_LEAST_ONCE) {
            endpoint.publishAcknowledge(msg.messageId());
        }
    }

    /**
     * Runs a twin operation on the worker pool and publishes {@code $iothub/twin/res/...}. For a reported
     * patch the result is the new version (sent in the topic, body empty); for GET it is the body.
     */
    private void answerTwin(DeviceSession session, String rid, Callable<byte[]> operation, int okStatus,
                            boolean resultIsVersion) {
        if (rid == null || rid.isEmpty() || rid.contains("/")) {
            session.close(); // the SDK could not correlate an answer anyway
            return;
        }
        workers.executeBlocking(operation, false).onComplete(ar -> {
            LOG.debug("Device {} twin answer for rid {}: {}", session.deviceId, rid, ar.succeeded() ? "ok" : ar.cause());
            if (ar.succeeded()) {
                byte[] result = ar.result();
                if (resultIsVersion) {
                    session.publish(DeviceTopics.twinResponse(okStatus, rid, Long.parseLong(new String(result))), new byte[0]);
                } else {
                    session.publish(DeviceTopics.twinResponse(okStatus, rid, null), result);
                }
            } else {
                HubException e = ar.cause() instanceof HubException h ? h
                        : ErrorCode.SERVER_ERROR.exception("Internal error");
                if (!(ar.cause() instanceof HubException)) {
                    LOG.warn("Twin operation of {} failed", session.deviceId, ar.cause());
                }
                session.publish(DeviceTopics.twinResponse(e.errorCode().httpStatus(), rid, null),
                        Json.bytes(ErrorJson.of(e)));
            }
        });
    }

    private static Long parseVersion(String version) {
        try {
            return Long.parseLong(version);
        } catch (NumberFormatException e) {
            throw ErrorCode.ARGUMENT_INVALID.exception("$version '" + version + "' is not a number.");
        }
    }

    private static JsonNode parseReported(byte[] body) {
        try {
            return Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw ErrorCode.IOTHUB_FORMAT_ERROR.exception("Malformed JSON in reported properties.");
        }
    }

    private void onMethodResponse(DeviceSession session, String topic, byte[] body) {
        Integer status = DeviceTopics.methodResponseStatus(topic);
        String rid = DeviceTopics.param(topic, "$rid");
        var pending = rid == null ? null : session.pendingMethods.get(rid);
        if (status == null || pending == null) {
            return; // late (timed out) or unknown answer: dropped silently, as IoT Hub does
        }
        JsonNode payload;
        try {
            payload = body.length == 0 ? Json.NODES.nullNode() : Json.MAPPER.readTree(body);
        } catch (IOException e) {
            payload = Json.NODES.textNode(new String(body, java.nio.charset.StandardCharsets.UTF_8));
        }
        pending.complete(new MethodResponse(status, payload));
    }

    private void onClose(MqttEndpoint endpoint, DeviceSession session) {
        if (session.detach(endpoint)) {
            runtimeChanged(session.deviceId, false);
        }
    }

    private static boolean isModule(String clientId) {
        return clientId.indexOf('/') > 0;
    }

    /** The registry of a client: the device registry, or the module registry for a module client. */
    private DeviceRegistry registryOf(String clientId) {
        return isModule(clientId) ? modules.registry() : registry;
    }

    private TwinService twinsOf(String clientId) {
        return isModule(clientId) ? modules.twins() : twins;
    }

    private void runtimeChanged(String deviceId, boolean connected) {
        Device d = registryOf(deviceId).find(deviceId);
        if (d != null) {
            d.runtime().connectionChanged(connected, clock.instant());
        }
    }
}
