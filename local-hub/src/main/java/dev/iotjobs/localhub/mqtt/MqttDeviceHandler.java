package dev.iotjobs.localhub.mqtt;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.auth.DeviceAuthenticator;
import dev.iotjobs.localhub.config.HubLimits;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.ModuleIds;
import dev.iotjobs.localhub.device.TwinService;
import dev.iotjobs.localhub.json.ErrorJson;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.MqttTopicSubscription;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.MqttSubscribeMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLPeerUnverifiedException;

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
    private final HubLimits limits;
    /** One outbox per event loop (the listeners' contexts), shared by the devices connected through it. */
    private final Map<Context, EventLoopOutbox> outboxes = new ConcurrentHashMap<>();

    /** Least time between a twin request and its answer (see {@link #answerTwin}). */
    private final long twinResponseDelayNanos;

    public MqttDeviceHandler(Vertx vertx, WorkerExecutor workers, DeviceAuthenticator authenticator,
                             DeviceRegistry registry, TwinService twins, SessionRegistry sessions, HubLimits limits,
                             Duration twinResponseDelay, ModuleClients modules) {
        this.limits = limits;
        this.twinResponseDelayNanos = twinResponseDelay.toNanos();
        this.modules = modules;
        this.vertx = vertx;
        this.workers = workers;
        this.authenticator = authenticator;
        this.registry = registry;
        this.twins = twins;
        this.sessions = sessions;
        this.clock = registry.clock();
    }

    public void handle(MqttEndpoint endpoint) {
        handle(endpoint, clientCertificates(endpoint));
    }

    /** The TLS client certificate chain a device presented on this connection, or null. */
    static X509Certificate[] clientCertificates(MqttEndpoint endpoint) {
        if (!endpoint.isSsl() || endpoint.sslSession() == null) {
            return null;
        }
        try {
            return dev.iotjobs.localhub.tls.DeviceCertificates.x509(endpoint.sslSession().getPeerCertificates());
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    /**
     * A device connection whose TLS client certificate chain (null if none) is known to the caller: the endpoint's
     * own TLS session on 8883, or the WebSocket's for MQTT over WebSockets (see {@link MqttWebSocketBridge}).
     */
    public void handle(MqttEndpoint endpoint, X509Certificate[] clientCertificates) {
        String deviceId = endpoint.clientIdentifier();
        String username = endpoint.auth() == null ? null : endpoint.auth().getUsername();
        String password = endpoint.auth() == null ? null : endpoint.auth().getPassword();
        // A module client's id is deviceId/moduleId (issue 15); anything else with a '/' is refused.
        if (deviceId == null || deviceId.isEmpty() || deviceId.contains("/") && !ModuleIds.isModuleKey(deviceId)) {
            endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED);
            return;
        }
        // Vert.x MQTT exposes the username only together with a password; an X.509 device sends none, so its
        // username cannot be checked (its certificate is, below).
        boolean certificateOnly = username == null && clientCertificates != null;
        if (!certificateOnly && (username == null || !usernameNamesDevice(username, deviceId))) {
            endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD);
            return;
        }
        // Module clients authenticate with SAS only (module X.509 is not emulated): no password is CONNACK 5.
        DeviceAuthenticator.Result auth = isModule(deviceId)
                ? modules.authenticator().authenticate(deviceId, password)
                : authenticator.authenticate(deviceId, password, clientCertificates);
        if (!auth.accepted()) {
            LOG.info("Refused MQTT connection of {}: {}", deviceId, auth.reason());
            endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED);
            return;
        }
        // The connection's own event-loop context: answers to this device are written from it.
        EventLoopOutbox outbox = outboxes.computeIfAbsent(vertx.getOrCreateContext(), EventLoopOutbox::new);
        DeviceSession session = sessions.session(deviceId);
        MqttEndpoint previous = session.attach(endpoint, outbox, limits.mqttOutboundBytes(), limits.mqttTwinRequestsInFlight());
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
        if (auth.expiryEpochSeconds() > 0 && millisLeft < Long.MAX_VALUE / 2) { // 0: X.509, nothing expires
            vertx.setTimer(Math.max(1, millisLeft), t -> {
                if (endpoint.isConnected()) {
                    LOG.info("SAS token of device {} expired: disconnecting it", deviceId);
                    endpoint.close();
                }
            });
        }
    }

    /** The username is {@code {hub host}/{deviceId}/?api-version=...}, as IoT Hub requires: this hub and this device. */
    static boolean usernameNamesDevice(String username, String deviceId) {
        int query = username.indexOf("/?");
        String head = query < 0 ? username : username.substring(0, query);
        String host = dev.iotjobs.localhub.config.WellKnownKeys.HOST_NAME;
        return head.length() == host.length() + 1 + deviceId.length()
                && head.regionMatches(true, 0, host, 0, host.length())
                && head.charAt(host.length()) == '/'
                && head.endsWith(deviceId);
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
            Device d = registryOf(deviceId).find(deviceId);
            if (d != null) {
                d.runtime().telemetryReceived(clock.instant());
            }
            // PUBACK once the message is durable in the telemetry stream; a refused one closes the connection
            // (no PUBACK: the SDK sends it again after reconnecting).
            io.vertx.core.Context context = vertx.getOrCreateContext();
            telemetry.append(dev.iotjobs.localhub.telemetry.DevicePropertyBag.message(deviceId, topic, msg.payload().getBytes(),
                    d == null ? null : d.authType(), d == null ? null : d.generationId())).whenComplete((ok, failure) ->
                    context.runOnContext(v -> {
                        if (failure == null) {
                            ack(endpoint, msg);
                        } else {
                            LOG.info("Telemetry of {} refused: {}", deviceId, failure.getMessage());
                            endpoint.close();
                        }
                    }));
        } else if (topic.startsWith(DeviceTopics.TWIN_GET_PREFIX)) {
            LOG.debug("Device {} twin GET {}", deviceId, topic);
            String rid = DeviceTopics.param(topic, "$rid");
            answerTwin(endpoint, msg, session, rid, () -> Json.bytes(twinsOf(deviceId).deviceGet(deviceId)), 200, false);
        } else if (topic.startsWith(DeviceTopics.REPORTED_PREFIX)) {
            String rid = DeviceTopics.param(topic, "$rid");
            String version = DeviceTopics.param(topic, "$version");
            byte[] body = msg.payload().getBytes();
            answerTwin(endpoint, msg, session, rid, () -> {
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

    private dev.iotjobs.localhub.telemetry.TelemetrySink telemetry = dev.iotjobs.localhub.telemetry.TelemetrySink.DROP;

    /** Where accepted telemetry goes (the hub's telemetry stream); set before the first connection. */
    public MqttDeviceHandler telemetry(dev.iotjobs.localhub.telemetry.TelemetrySink sink) {
        telemetry = sink;
        return this;
    }

    private static void ack(MqttEndpoint endpoint, MqttPublishMessage msg) {
        if (msg.qosLevel() == MqttQoS.AT_LEAST_ONCE) {
            endpoint.publishAcknowledge(msg.messageId());
        }
    }

    /**
     * Runs a twin operation on the worker pool, then PUBACKs the request and publishes {@code $iothub/twin/res/...},
     * in that order and no sooner than the configured twin response delay after the request. For a reported
     * patch the result is the new version (sent in the topic, body empty); for GET it is the body.
     * <p>
     * Why the delay: iot-device-client 2.5.0 records a published request as awaiting its PUBACK only after Paho's
     * publish call has returned ({@code Mqtt.publish}, Mqtt.java:228, {@code unacknowledgedSentMessages.put}),
     * under {@code MqttTwin}'s own lock, while PUBACKs are handled by the {@code MqttMessaging} instance (the Paho
     * callback, MqttIotHubConnection.java:281) under a different lock ({@code Mqtt.deliveryComplete},
     * Mqtt.java:372). A PUBACK that the callback thread handles before that put is "not sent by this client" and
     * ignored: the request stays in IotHubTransport's in-progress packets forever (re-sent after a reconnect,
     * onRequestAcknowledged never called). A hub answering in microseconds hit this in about one twin request in a
     * hundred (18 in 1,600 at load 10 on 2 cores); 5 ms gave none. No real hub is that fast.
     * <p>
     * Not preventable here: the SDK's occasional getTwin/updateReportedProperties timeout, where the answer has
     * arrived but IotHubTransport.onMessageReceived queues it for the receive thread (IotHubTransport.java:332)
     * before looking up the request's callback (line 346), which the receive thread may already have removed
     * (line 1276) — Azure/azure-iot-sdk-java#1803. It happens after the answer has been read, whatever the hub's
     * timing (about 1% of requests under load, with or without this delay); see docs/local-hub.md.
     */
    private void answerTwin(MqttEndpoint endpoint, MqttPublishMessage request, DeviceSession session, String rid,
                            Callable<byte[]> operation, int okStatus, boolean resultIsVersion) {
        if (rid == null || rid.isEmpty() || rid.contains("/")) {
            ack(endpoint, request);
            session.close(); // the SDK could not correlate an answer anyway
            return;
        }
        DeviceSession.Link link = session.link();
        if (link == null) {
            return; // the connection is gone
        }
        if (!link.beginTwinRequest()) {
            // IoT Hub throttles twin operations: 429 in the response topic, and the request is not run.
            ack(endpoint, request);
            publishTwinError(session, rid, ErrorCode.THROTTLING.exception("More than "
                    + limits.mqttTwinRequestsInFlight() + " twin requests of this connection are in progress; retry later."));
            return;
        }
        long requestedAt = System.nanoTime();
        workers.executeBlocking(operation, false).onComplete(ar -> {
            link.endTwinRequest();
            long waitNanos = twinResponseDelayNanos - (System.nanoTime() - requestedAt);
            if (waitNanos <= 0) {
                ackThenAnswer(endpoint, request, session, rid, ar, okStatus, resultIsVersion);
            } else {
                // A timer on this connection's context: the PUBACK and the answer are written from it, in this order.
                vertx.setTimer(Math.max(1, (waitNanos + 999_999) / 1_000_000),
                        t -> ackThenAnswer(endpoint, request, session, rid, ar, okStatus, resultIsVersion));
            }
        });
    }

    private void ackThenAnswer(MqttEndpoint endpoint, MqttPublishMessage request, DeviceSession session, String rid,
                               AsyncResult<byte[]> ar, int okStatus, boolean resultIsVersion) {
        if (endpoint.isConnected()) {
            ack(endpoint, request);
        }
        publishTwinAnswer(session, rid, ar, okStatus, resultIsVersion);
    }

    private void publishTwinAnswer(DeviceSession session, String rid, AsyncResult<byte[]> ar,
                                   int okStatus, boolean resultIsVersion) {
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
            publishTwinError(session, rid, e);
        }
    }

    /** A refused twin request: the status in the response topic, IoT Hub's error document as the body. */
    private static void publishTwinError(DeviceSession session, String rid, HubException e) {
        session.publish(DeviceTopics.twinResponse(e.errorCode().httpStatus(), rid, null), Json.bytes(ErrorJson.of(e)));
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
            payload = Json.NODES.textNode(new String(body, StandardCharsets.UTF_8));
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
