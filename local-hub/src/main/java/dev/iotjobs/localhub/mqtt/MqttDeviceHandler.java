package dev.iotjobs.localhub.mqtt;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.edge.DeviceEdge;
import dev.iotjobs.localhub.edge.EdgeCredentials;
import dev.iotjobs.localhub.edge.EdgeRefusedException;
import dev.iotjobs.localhub.edge.EdgeSession;
import dev.iotjobs.localhub.edge.Feature;
import dev.iotjobs.localhub.concurrent.ConnectionCap;
import dev.iotjobs.localhub.config.HubLimits;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.json.ErrorJson;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.model.IdentityKey;
import dev.iotjobs.localhub.tls.DeviceCertificates;
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
import io.vertx.mqtt.messages.MqttUnsubscribeMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.util.LinkedHashMap;
import java.util.Objects;

/**
 * The MQTT 3.1.1 adapter of the device edge: IoT Hub's CONNECT rules, topics, property bags, QoS and flow
 * control. Everything a device does goes to its {@link EdgeSession}; what the hub sends comes back through the
 * connection's {@link MqttLink}. Runs on Vert.x event loops; calls that commit run on the worker pool and answer
 * back on the connection's own context.
 */
public final class MqttDeviceHandler {
    private static final Logger LOG = LoggerFactory.getLogger(MqttDeviceHandler.class);

    /**
     * How long a connection whose telemetry was refused stays open before the hub closes it. A real hub answers
     * after a network round trip; one on the same machine answered in about 2 ms, and that is too fast for
     * iot-device-client 2.5.0: when it reconnects, it reports itself connected twice (once from the MQTT
     * connection's open, {@code onConnectionEstablished}, and again when {@code IotHubTransport.openConnection}
     * returns), and its send thread resends the waiting message in between. A connection lost in that gap is
     * recorded as lost and then overwritten as connected: the client stays "connected" on a closed socket, never
     * reconnects, and the message waits forever. Refused again at once, a device resending in a flood hit that
     * gap about once in four tries on a loaded machine; closing a little later leaves the SDK time to finish.
     */
    static final long REFUSED_TELEMETRY_CLOSE_DELAY_MILLIS = 200;

    private final Vertx vertx;
    private final WorkerExecutor workers;
    private final DeviceEdge edge;
    private final HubLimits limits;
    /** One outbox per event loop (the listeners' contexts), shared by the devices connected through it. */
    private final Map<Context, EventLoopOutbox> outboxes = new ConcurrentHashMap<>();

    /** Least time between a twin request and its answer (see {@link #answerTwin}). */
    private final long twinResponseDelayNanos;
    /** Connections past their CONNECT; sockets before it are bounded by the CONNECT timeout. */
    private final ConnectionCap connections;

    public MqttDeviceHandler(Vertx vertx, WorkerExecutor workers, DeviceEdge edge, HubLimits limits,
                             Duration twinResponseDelay) {
        this.vertx = vertx;
        this.workers = workers;
        this.edge = edge;
        this.limits = limits;
        this.twinResponseDelayNanos = twinResponseDelay.toNanos();
        this.connections = new ConnectionCap("MQTT (8883 and MQTT over WebSockets)", "HubLimits.mqttConnections",
                limits.mqttConnections());
    }

    /** Device connections admitted and open (8883 and WebSockets together). */
    public int openConnections() {
        return connections.open();
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
            return DeviceCertificates.x509(endpoint.sslSession().getPeerCertificates());
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    /**
     * A device connection whose TLS client certificate chain (null if none) is known to the caller: the endpoint's
     * own TLS session on 8883, or the WebSocket's for MQTT over WebSockets (see {@link MqttWebSocketBridge}).
     */
    public void handle(MqttEndpoint endpoint, X509Certificate[] clientCertificates) {
        String clientId = endpoint.clientIdentifier();
        String username = endpoint.auth() == null ? null : endpoint.auth().getUsername();
        String password = endpoint.auth() == null ? null : endpoint.auth().getPassword();
        // A module client's id is deviceId/moduleId; anything else with a '/' is refused.
        IdentityKey identity = clientId == null ? null : identityOf(clientId);
        if (identity == null) {
            endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED);
            return;
        }
        // Vert.x MQTT exposes the username only together with a password; an X.509 device sends none, so its
        // username cannot be checked (its certificate is, by the edge).
        boolean certificateOnly = username == null && clientCertificates != null;
        if (!certificateOnly && (username == null || !usernameNamesDevice(username, clientId))) {
            endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD);
            return;
        }
        // With a tier, a burst of new connections over its rate waits for its turn (the CONNACK comes later), and one
        // that would wait longer than the backlog is refused with CONNACK 3, server unavailable (the device SDKs
        // retry it with a back-off). Without a tier the admission is already complete.
        CompletableFuture<Void> admitted = edge.admitConnection();
        if (admitted.isDone() && !admitted.isCompletedExceptionally()) {
            connect(endpoint, clientCertificates, clientId, identity, password);
            return;
        }
        Context context = vertx.getOrCreateContext();
        // A device that gives up while it waits must not be connected afterwards (nothing would disconnect it).
        AtomicBoolean gone = new AtomicBoolean();
        endpoint.closeHandler(v -> gone.set(true));
        admitted.whenComplete((v, e) -> context.runOnContext(x -> {
            if (gone.get()) {
                return;
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause != null) {
                LOG.info("Refused MQTT connection of {}: {}", clientId, cause.getMessage());
                endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE);
            } else {
                connect(endpoint, clientCertificates, clientId, identity, password);
            }
        }));
    }

    private void connect(MqttEndpoint endpoint, X509Certificate[] clientCertificates, String clientId,
                         IdentityKey identity, String password) {
        // The connection's own event-loop context: what the hub sends this device is written from it.
        EventLoopOutbox outbox = outboxes.computeIfAbsent(vertx.getOrCreateContext(), EventLoopOutbox::new);
        MqttLink link = new MqttLink(endpoint, outbox, clientId, limits.mqttOutboundBytes());
        if (!connections.tryAcquire()) {
            endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE);
            return;
        }
        EdgeSession session;
        try {
            session = edge.open(new EdgeCredentials(identity, password, clientCertificates), link,
                    endpoint.isCleanSession());
        } catch (EdgeRefusedException e) {
            connections.release();
            LOG.info("Refused MQTT connection of {}: {}", clientId, e.getMessage());
            endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED);
            return;
        }
        endpoint.publishAutoAck(false);
        endpoint.subscribeHandler(sub -> onSubscribe(endpoint, session, sub));
        endpoint.unsubscribeHandler(unsub -> onUnsubscribe(endpoint, session, unsub));
        endpoint.publishHandler(msg -> onPublish(endpoint, link, session, msg));
        endpoint.publishAcknowledgeHandler(packetId -> onC2dAcknowledged(link, session, packetId));
        endpoint.closeHandler(v -> {
            connections.release();
            session.closed();
        });
        endpoint.exceptionHandler(e -> LOG.debug("MQTT connection of {} failed: {}", clientId, e.toString()));
        endpoint.accept(session.sessionPresent());
        session.start();
    }

    /** A device id, or {@code deviceId/moduleId} (both non-empty, one '/'); null for anything else. */
    static IdentityKey identityOf(String clientId) {
        int slash = clientId.indexOf('/');
        if (clientId.isEmpty() || slash == 0 || slash == clientId.length() - 1
                || slash > 0 && clientId.indexOf('/', slash + 1) >= 0) {
            return null;
        }
        return slash < 0 ? IdentityKey.device(clientId)
                : IdentityKey.module(clientId.substring(0, slash), clientId.substring(slash + 1));
    }

    /** The username is {@code {hub host}/{deviceId}/?api-version=...}, as IoT Hub requires: this hub and this device. */
    static boolean usernameNamesDevice(String username, String deviceId) {
        int query = username.indexOf("/?");
        String head = query < 0 ? username : username.substring(0, query);
        String host = WellKnownKeys.HOST_NAME;
        return head.length() == host.length() + 1 + deviceId.length()
                && head.regionMatches(true, 0, host, 0, host.length())
                && head.charAt(host.length()) == '/'
                && head.endsWith(deviceId);
    }

    private void onSubscribe(MqttEndpoint endpoint, EdgeSession session, MqttSubscribeMessage sub) {
        List<MqttQoS> granted = new ArrayList<>();
        List<Feature> features = new ArrayList<>();
        String clientId = endpoint.clientIdentifier();
        for (MqttTopicSubscription t : sub.topicSubscriptions()) {
            if (DeviceTopics.maySubscribe(clientId, t.topicName())) {
                Feature f = DeviceTopics.featureOf(t.topicName());
                if (f != null) {
                    features.add(f);
                }
                granted.add(t.qualityOfService() == MqttQoS.AT_MOST_ONCE ? MqttQoS.AT_MOST_ONCE : MqttQoS.AT_LEAST_ONCE);
            } else {
                LOG.info("Device {} may not subscribe to {}", clientId, t.topicName());
                granted.add(MqttQoS.FAILURE);
            }
        }
        if (features.isEmpty()) {
            endpoint.subscribeAcknowledge(sub.messageId(), granted);
            return;
        }
        // The session is committed before the SUBACK, so it survives a hub restart once acknowledged; what the
        // subscription lets through (held method calls, queued messages) follows the SUBACK.
        workers.executeBlocking(() -> {
            features.forEach(session::subscribe);
            return null;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                LOG.warn("Could not store the session of {}", clientId, ar.cause());
            }
            if (endpoint.isConnected()) {
                endpoint.subscribeAcknowledge(sub.messageId(), granted);
            }
        });
    }

    private void onUnsubscribe(MqttEndpoint endpoint, EdgeSession session, MqttUnsubscribeMessage unsub) {
        List<Feature> features = unsub.topics().stream().map(DeviceTopics::featureOf)
                .filter(Objects::nonNull).toList();
        if (features.isEmpty()) {
            endpoint.unsubscribeAcknowledge(unsub.messageId());
            return;
        }
        workers.executeBlocking(() -> {
            features.forEach(session::unsubscribe);
            return null;
        }, false).onComplete(ar -> {
            if (endpoint.isConnected()) {
                endpoint.unsubscribeAcknowledge(unsub.messageId());
            }
        });
    }

    /** PUBACK of a cloud-to-device message: the only settlement MQTT has, so it completes the message. */
    private void onC2dAcknowledged(MqttLink link, EdgeSession session, int packetId) {
        String lockToken = link.c2dPackets.remove(packetId);
        if (lockToken == null) {
            return;
        }
        workers.executeBlocking(() -> {
            session.completeC2d(lockToken);
            return null;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                LOG.info("Completion of a cloud-to-device message of {} refused: {}", session.identity(),
                        ar.cause().getMessage());
            }
        });
    }

    private void onPublish(MqttEndpoint endpoint, MqttLink link, EdgeSession session, MqttPublishMessage msg) {
        String topic = msg.topicName();
        String clientId = endpoint.clientIdentifier();
        if (msg.qosLevel() == MqttQoS.EXACTLY_ONCE) {
            endpoint.close(); // IoT Hub does not support QoS 2 and closes the connection
            return;
        }
        if (DeviceTopics.isTelemetry(clientId, topic)) {
            onTelemetry(endpoint, session, msg);
        } else if (topic.startsWith(DeviceTopics.TWIN_GET_PREFIX)) {
            String rid = DeviceTopics.param(topic, "$rid");
            answerTwin(endpoint, link, session, msg, rid, () -> Json.bytes(session.twin()), 200, false);
        } else if (topic.startsWith(DeviceTopics.REPORTED_PREFIX)) {
            String rid = DeviceTopics.param(topic, "$rid");
            String version = DeviceTopics.param(topic, "$version");
            byte[] body = msg.payload().getBytes();
            answerTwin(endpoint, link, session, msg, rid, () -> {
                Long expected = version == null ? null : parseVersion(version);
                return Long.toString(session.patchReported(parseReported(body), expected)).getBytes();
            }, 204, true);
        } else if (topic.startsWith(DeviceTopics.METHOD_RESPONSE_PREFIX)) {
            ack(endpoint, msg);
            onMethodResponse(session, topic, msg.payload().getBytes());
        } else {
            // Another device's topic, or one IoT Hub does not know: IoT Hub drops the connection.
            LOG.info("Device {} published to a topic it may not use ({}): disconnecting it", clientId, topic);
            endpoint.close();
        }
    }

    /** Telemetry is acknowledged once the telemetry sink has taken it; a refused message closes the connection. */
    private void onTelemetry(MqttEndpoint endpoint, EdgeSession session, MqttPublishMessage msg) {
        Map<String, String> bag = DeviceTopics.telemetryProperties(endpoint.clientIdentifier(), msg.topicName());
        Map<String, String> application = new LinkedHashMap<>();
        bag.forEach((k, v) -> {
            if (!k.startsWith("$.") && v != null) {
                application.put(k, v);
            }
        });
        Instant created = null;
        try {
            String ctime = bag.get("$.ctime");
            created = ctime == null ? null : Instant.parse(ctime);
        } catch (RuntimeException ignored) {
            // not an ISO-8601 time: left out, as the hub cannot stamp it
        }
        Context context = vertx.getOrCreateContext();
        session.telemetry(msg.payload().getBytes(), application, bag.get("$.mid"), bag.get("$.cid"), bag.get("$.ct"),
                bag.get("$.ce"), created, bag.get("$.sub")).whenComplete((v, e) -> context.runOnContext(x -> {
                    if (e == null) {
                        ack(endpoint, msg);
                    } else {
                        // MQTT has no negative acknowledgement: IoT Hub closes the connection.
                        Throwable cause = e instanceof CompletionException && e.getCause() != null
                                ? e.getCause() : e;
                        LOG.info("Telemetry of {} refused, closing its connection: {}", session.identity(),
                                cause.getMessage());
                        vertx.setTimer(REFUSED_TELEMETRY_CLOSE_DELAY_MILLIS, t -> {
                            if (endpoint.isConnected()) {
                                endpoint.close();
                            }
                        });
                    }
                }));
    }

    private static void ack(MqttEndpoint endpoint, MqttPublishMessage msg) {
        if (msg.qosLevel() == MqttQoS.AT_LEAST_ONCE && endpoint.isConnected()) {
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
     * (line 1276), a known defect of the device SDK. It happens after the answer has been read, whatever the hub's
     * timing (about 1% of requests under load, with or without this delay); see docs/local-hub.md.
     */
    private void answerTwin(MqttEndpoint endpoint, MqttLink link, EdgeSession session, MqttPublishMessage request,
                            String rid, Callable<byte[]> operation, int okStatus, boolean resultIsVersion) {
        if (rid == null || rid.isEmpty() || rid.contains("/")) {
            ack(endpoint, request);
            endpoint.close(); // the SDK could not correlate an answer anyway
            return;
        }
        try {
            session.beginTwinRequest();
        } catch (HubException e) {
            // IoT Hub throttles twin operations: 429 in the response topic, and the request is not run.
            ack(endpoint, request);
            publishTwinError(link, rid, e);
            return;
        }
        long requestedAt = System.nanoTime();
        // With a tier, the twin throttles (shared with the service side) may delay the request or refuse it (429).
        CompletableFuture<Void> admitted = session.admitTwin(resultIsVersion,
                resultIsVersion ? request.payload().length() : 0);
        if (admitted.isDone() && !admitted.isCompletedExceptionally()) {
            runTwin(endpoint, link, session, request, rid, operation, okStatus, resultIsVersion, requestedAt);
            return;
        }
        Context context = vertx.getOrCreateContext();
        admitted.whenComplete((v, e) -> context.runOnContext(x -> {
            if (e == null) {
                runTwin(endpoint, link, session, request, rid, operation, okStatus, resultIsVersion, requestedAt);
                return;
            }
            session.twinRequestDone();
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            ack(endpoint, request);
            publishTwinError(link, rid, cause instanceof HubException h ? h
                    : ErrorCode.SERVER_ERROR.exception("The hub could not admit the twin request."));
        }));
    }

    private void runTwin(MqttEndpoint endpoint, MqttLink link, EdgeSession session, MqttPublishMessage request,
                         String rid, Callable<byte[]> operation, int okStatus, boolean resultIsVersion, long requestedAt) {
        workers.executeBlocking(operation, false).onComplete(ar -> {
            session.twinRequestDone();
            long waitNanos = twinResponseDelayNanos - (System.nanoTime() - requestedAt);
            if (waitNanos <= 0) {
                ackThenAnswer(endpoint, link, request, rid, ar, okStatus, resultIsVersion);
            } else {
                // A timer on this connection's context: the PUBACK and the answer are written from it, in this order.
                vertx.setTimer(Math.max(1, (waitNanos + 999_999) / 1_000_000),
                        t -> ackThenAnswer(endpoint, link, request, rid, ar, okStatus, resultIsVersion));
            }
        });
    }

    private void ackThenAnswer(MqttEndpoint endpoint, MqttLink link, MqttPublishMessage request, String rid,
                               AsyncResult<byte[]> ar, int okStatus, boolean resultIsVersion) {
        ack(endpoint, request);
        if (ar.succeeded()) {
            byte[] result = ar.result();
            if (resultIsVersion) {
                link.publish(DeviceTopics.twinResponse(okStatus, rid, Long.parseLong(new String(result))), new byte[0]);
            } else {
                link.publish(DeviceTopics.twinResponse(okStatus, rid, null), result);
            }
        } else {
            HubException e = ar.cause() instanceof HubException h ? h
                    : ErrorCode.SERVER_ERROR.exception("Internal error");
            if (!(ar.cause() instanceof HubException)) {
                LOG.warn("Twin operation of {} failed", endpoint.clientIdentifier(), ar.cause());
            }
            publishTwinError(link, rid, e);
        }
    }

    /** A refused twin request: the status in the response topic, IoT Hub's error document as the body. */
    private static void publishTwinError(MqttLink link, String rid, HubException e) {
        link.publish(DeviceTopics.twinResponse(e.errorCode().httpStatus(), rid, null), Json.bytes(ErrorJson.of(e)));
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

    private static void onMethodResponse(EdgeSession session, String topic, byte[] body) {
        Integer status = DeviceTopics.methodResponseStatus(topic);
        String rid = DeviceTopics.param(topic, "$rid");
        if (status == null || rid == null) {
            return; // malformed: dropped silently, as IoT Hub does
        }
        JsonNode payload;
        try {
            payload = body.length == 0 ? Json.NODES.nullNode() : Json.MAPPER.readTree(body);
        } catch (IOException e) {
            payload = Json.NODES.textNode(new String(body, StandardCharsets.UTF_8));
        }
        session.answerMethod(rid, status, payload);
    }
}
