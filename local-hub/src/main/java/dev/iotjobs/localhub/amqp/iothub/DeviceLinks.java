package dev.iotjobs.localhub.amqp.iothub;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.edge.DeviceEdge;
import dev.iotjobs.localhub.edge.EdgeCredentials;
import dev.iotjobs.localhub.edge.EdgeRefusedException;
import dev.iotjobs.localhub.edge.EdgeSession;
import dev.iotjobs.localhub.edge.Feature;
import dev.iotjobs.localhub.json.ErrorJson;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.model.IdentityKey;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.proton.ProtonDelivery;
import io.vertx.proton.ProtonLink;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.messaging.Released;
import org.apache.qpid.proton.amqp.transport.AmqpError;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * The device and module links of the IoT Hub AMQP endpoint, over the protocol-neutral device edge: telemetry,
 * twin (requests, answers, desired notifications), direct methods and cloud-to-device messages, for the identity
 * named by the link's address. The first link of an identity on a connection opens its {@link EdgeSession} (the
 * edge checks the put-token's SAS token or the TLS client certificate again); its last link, or the connection's
 * end, closes it. The twin and methods links come in pairs (the client's sender and receiver on one address).
 */
final class DeviceLinks {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceLinks.class);
    static final Symbol OPERATION = Symbol.valueOf("operation");
    static final Symbol RESOURCE = Symbol.valueOf("resource");
    static final Symbol STATUS = Symbol.valueOf("status");
    static final Symbol VERSION = Symbol.valueOf("version");
    static final String DESIRED_NOTIFICATIONS = "/notifications/twin/properties/desired";

    private final WorkerExecutor workers;
    private final DeviceEdge edge;
    private final Duration c2dLock;

    /** @param c2dLock how long a C2D message handed to a device stays locked unless settled (IoT Hub: 60 s) */
    DeviceLinks(WorkerExecutor workers, DeviceEdge edge, Duration c2dLock) {
        this.workers = workers;
        this.edge = edge;
        this.c2dLock = c2dLock;
    }

    // ---- sessions ------------------------------------------------------------------------------------------------

    /** The identity's session on connection {@code c}, opened through the edge on its first link. */
    private Future<AmqpDeviceSession> session(IotHubAmqpConnection c, Claim claim, IdentityKey identity) {
        return c.deviceSessions().computeIfAbsent(identity, id -> {
            AmqpDeviceSession ds = new AmqpDeviceSession(id, c);
            ds.c2dOutcome = (lockToken, outcome) -> settleC2d(ds, lockToken, outcome);
            ds.c2dLockDuration = c2dLock;
            EdgeCredentials credentials = new EdgeCredentials(id, claim.token(),
                    claim.token() == null ? c.facts().clientCertificates() : null);
            // Authentication and the session's first C2D hand-out may commit: on a worker.
            // With a tier, a new connection over the tier's rate waits for its turn, or is refused (429001: its links
            // detach as throttled, which the device SDKs retry with a back-off).
            Future<AmqpDeviceSession> opened = Future.fromCompletionStage(edge.admitConnection(), c.context())
                    .compose(v -> workers.executeBlocking(() -> {
                        ds.session = edge.open(credentials, ds, true);
                        return ds;
                    }, false));
            opened.onFailure(e -> c.deviceSessions().remove(id));
            return opened;
        });
    }

    /** A claim for an identity was renewed on {@code c} (put-token before expiry): its session lives on. */
    void renewed(IotHubAmqpConnection c, Claim claim) {
        for (Map.Entry<IdentityKey, Future<AmqpDeviceSession>> e : c.deviceSessions().entrySet()) {
            if (claim.coversDevice(e.getKey()) && e.getValue().succeeded() && e.getValue().result().session != null) {
                e.getValue().result().session.tokenRenewed(claim.expiryEpochSeconds());
            }
        }
    }

    void ended(AmqpDeviceSession ds) {
        ds.connection.deviceSessions().remove(ds.identity);
    }

    private void attached(IotHubAmqpConnection c, Claim claim, ProtonLink<?> link, LinkAddress address,
                          Consumer<AmqpDeviceSession> open) {
        session(c, claim, address.identity()).onComplete(ar -> {
            if (ar.failed()) {
                String why = ar.cause() instanceof EdgeRefusedException r ? r.getMessage() : String.valueOf(ar.cause());
                if (!(ar.cause() instanceof EdgeRefusedException) && !(ar.cause() instanceof HubException)) {
                    LOG.warn("Could not open the session of {}", address.identity(), ar.cause());
                }
                if (ar.cause() instanceof HubException h) { // the tier's new-connection throttle
                    refuseThrottled(c, link, address.identity(), h);
                    return;
                }
                LOG.info("Refused AMQP link of {}: {}", address.identity(), why);
                IotHubAmqpConnection.refuse(link, AmqpError.UNAUTHORIZED_ACCESS, "Unauthorized: " + why + ".");
                return;
            }
            AmqpDeviceSession ds = ar.result();
            if (ds.ended()) {
                IotHubAmqpConnection.refuse(link, AmqpErrors.LINK_STOLEN, "A newer connection of " + address.identity()
                        + " took over.");
                return;
            }
            ds.links.add(link);
            c.onLinkEnd(link, () -> {
                ds.links.remove(link);
                linkEnded(ds, link);
                if (ds.links.isEmpty()) {
                    ds.end();
                }
            });
            open.accept(ds);
            if (!ds.started) {
                // The identity's first link is answered: from now on the hub may send it what it listens to.
                ds.started = true;
                ds.session.start();
            }
        });
    }

    /**
     * A new device connection over the tier's rate (429001). A connection that carries no other identity is the
     * device's connection, and it is refused as a whole: the hub closes it with
     * {@code com.microsoft:device-container-throttled}, which the device SDKs report as THROTTLED and retry with a
     * back-off. Only a connection multiplexing other identities keeps going, with this identity's links detached
     * with that condition.
     * <p>
     * Why not detach the links of a single-device connection too: the Java device SDK (2.5.0) takes a detached link
     * as its session's end and goes on to close the connection itself, and its open call returns (refused) while that
     * connection is still closing; with its first retry immediate, the closing connection's last callback can then
     * release the wait of the retry's connection, which reports itself open without any link (the device seemed
     * connected inside the refusal window). A closed connection ends the SDK's attempt before its open call returns.
     */
    private static void refuseThrottled(IotHubAmqpConnection c, ProtonLink<?> link, IdentityKey identity, HubException h) {
        if (c.isClosing()) {
            return;
        }
        if (c.deviceSessions().keySet().stream().allMatch(identity::equals)) {
            LOG.info("Refused AMQP connection of {}: {}", identity, h.getMessage());
            c.refuseWith(AmqpErrors.condition(h), h.getMessage());
        } else {
            LOG.info("Refused AMQP link of {}: {}", identity, h.getMessage());
            IotHubAmqpConnection.refuse(link, AmqpErrors.condition(h), h.getMessage());
        }
    }

    /** A link on which the device sends: telemetry, twin requests, method answers. */
    void openFromDevice(IotHubAmqpConnection c, Claim claim, ProtonReceiver receiver, LinkAddress address) {
        receiver.setAutoAccept(false);
        receiver.setPrefetch(0);
        receiver.setMaxMessageSize(new UnsignedLong(c.endpoint().limits().maxMessageBytes()));
        attached(c, claim, receiver, address, ds -> {
            switch (address.kind()) {
                case TELEMETRY -> receiver.handler((delivery, message) -> onTelemetry(ds, receiver, delivery, message));
                case TWIN -> receiver.handler((delivery, message) -> onTwinRequest(ds, receiver, delivery, message));
                case METHODS -> {
                    ds.methodAnswers = receiver;
                    receiver.handler((delivery, message) -> {
                        onMethodAnswer(ds, message);
                        delivery.disposition(Accepted.getInstance(), true);
                        receiver.flow(1);
                    });
                }
                default -> throw new IllegalArgumentException(address.toString());
            }
            receiver.open();
            receiver.flow(c.endpoint().limits().receiveCredit());
            if (address.kind() == LinkAddress.Kind.METHODS) {
                methodsMaybeReady(ds);
            }
        });
    }

    /** A link on which the hub sends to the device: C2D, twin answers and desired notifications, method requests. */
    void openToDevice(IotHubAmqpConnection c, Claim claim, ProtonSender sender, LinkAddress address) {
        attached(c, claim, sender, address, ds -> {
            sender.open();
            switch (address.kind()) {
                case TWIN -> ds.twinSender = sender;
                case METHODS -> {
                    ds.methodRequests = sender;
                    methodsMaybeReady(ds);
                }
                case DEVICE_BOUND -> {
                    ds.cloudToDevice = sender;
                    blocking(ds, () -> ds.session.subscribe(Feature.C2D));
                }
                default -> throw new IllegalArgumentException(address.toString());
            }
        });
    }

    /** Direct-method subscription over AMQP is both method links being attached. */
    private void methodsMaybeReady(AmqpDeviceSession ds) {
        if (ds.methodRequests != null && ds.methodAnswers != null) {
            blocking(ds, () -> ds.session.subscribe(Feature.METHODS));
        }
    }

    private void linkEnded(AmqpDeviceSession ds, ProtonLink<?> link) {
        if (ds.session == null || ds.ended()) {
            return;
        }
        if (link == ds.twinSender) {
            ds.twinSender = null;
            blocking(ds, () -> ds.session.unsubscribe(Feature.DESIRED));
        } else if (link == ds.methodRequests || link == ds.methodAnswers) {
            if (link == ds.methodRequests) {
                ds.methodRequests = null;
            } else {
                ds.methodAnswers = null;
            }
            blocking(ds, () -> ds.session.unsubscribe(Feature.METHODS));
        } else if (link == ds.cloudToDevice) {
            ds.cloudToDevice = null;
            blocking(ds, () -> ds.session.unsubscribe(Feature.C2D));
        }
    }

    private void blocking(AmqpDeviceSession ds, Runnable action) {
        workers.executeBlocking(() -> {
            action.run();
            return null;
        }, false).onFailure(e -> LOG.warn("AMQP session of {}: {}", ds.identity, e.toString()));
    }

    // ---- telemetry -----------------------------------------------------------------------------------------------

    private void onTelemetry(AmqpDeviceSession ds, ProtonReceiver receiver, ProtonDelivery delivery, Message m) {
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
                    continue;
                }
                if (!name.startsWith("iothub-connection-") && value != null) {
                    app.put(name, value);
                }
            }
        }
        String component = annotation(m, Symbol.valueOf("dt-subject"));
        ds.session.telemetry(AmqpBodies.bytes(m), app,
                        m.getMessageId() == null ? null : m.getMessageId().toString(),
                        m.getCorrelationId() == null ? null : m.getCorrelationId().toString(),
                        m.getContentType(), m.getContentEncoding(), created, component)
                .whenComplete((v, e) -> ds.connection.context().runOnContext(x -> {
                    if (e == null) {
                        delivery.disposition(Accepted.getInstance(), true);
                    } else {
                        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                        HubException h = cause instanceof HubException he ? he
                                : ErrorCode.SERVER_ERROR.exception("The hub could not store the message.");
                        delivery.disposition(IotHubAmqpConnection.rejected(AmqpErrors.condition(h), h.getMessage()), true);
                    }
                    if (receiver.isOpen()) {
                        receiver.flow(1);
                    }
                }));
    }

    // ---- twin ----------------------------------------------------------------------------------------------------

    private void onTwinRequest(AmqpDeviceSession ds, ProtonReceiver receiver, ProtonDelivery delivery, Message request) {
        String operation = annotation(request, OPERATION);
        String resource = annotation(request, RESOURCE);
        EdgeSession session = ds.session;
        // Settled at once: the Java SDK holds its GET and PATCH until its PUT subscribe is settled.
        delivery.disposition(Accepted.getInstance(), true);
        if ("PUT".equals(operation) && DESIRED_NOTIFICATIONS.equals(resource)) {
            answerTwin(ds, receiver, request, () -> {
                session.subscribe(Feature.DESIRED);
                return null;
            }, 200, false, null);
        } else if ("DELETE".equals(operation) && DESIRED_NOTIFICATIONS.equals(resource)) {
            answerTwin(ds, receiver, request, () -> {
                session.unsubscribe(Feature.DESIRED);
                return null;
            }, 200, false, null);
        } else if ("GET".equals(operation)) {
            answerTwin(ds, receiver, request, () -> Json.bytes(session.twin()), 200, false, session.admitTwin(false, 0));
        } else if ("PATCH".equals(operation) && "/properties/reported".equals(resource)) {
            byte[] body = AmqpBodies.bytes(request);
            String expected = annotation(request, VERSION);
            answerTwin(ds, receiver, request, () -> {
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
                return Long.toString(session.patchReported(patch, version)).getBytes(StandardCharsets.US_ASCII);
            }, 204, true, session.admitTwin(true, body.length));
        } else {
            answerTwin(ds, receiver, request, () -> {
                throw ErrorCode.GENERIC_BAD_REQUEST.exception("Unsupported twin operation '" + operation
                        + "' on resource '" + resource + "'; IoT Hub supports GET, PATCH /properties/reported and "
                        + "PUT or DELETE " + DESIRED_NOTIFICATIONS + ".");
            }, 200, false, null);
        }
    }

    /**
     * Runs a twin operation on a worker and answers on the twin receiver of the identity: correlation id as
     * sent, {@code status} (and {@code version} after a reported patch) as annotations. Counted against the
     * connection's twin requests in progress and, with a tier, admitted by the twin throttles first
     * ({@code admitted} non-null: more than the connection may have in progress, or a refusal by the tier, are
     * answered 429).
     */
    private void answerTwin(AmqpDeviceSession ds, ProtonReceiver receiver, Message request, Callable<byte[]> operation,
                            int okStatus, boolean resultIsVersion, CompletableFuture<Void> admitted) {
        Object correlationId = request.getCorrelationId();
        EdgeSession session = ds.session;
        boolean throttled = admitted != null;
        Future<Void> turn = admitted == null || admitted.isDone() && !admitted.isCompletedExceptionally()
                ? Future.succeededFuture() : Future.fromCompletionStage(admitted, ds.connection.context());
        turn.compose(v -> workers.executeBlocking(() -> {
            if (throttled) {
                session.beginTwinRequest();
                try {
                    return operation.call();
                } finally {
                    session.twinRequestDone();
                }
            }
            return operation.call();
        }, false)).onComplete(ar -> {
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
                    annotations.put(VERSION, Long.parseLong(new String(result, StandardCharsets.US_ASCII)));
                    result = null;
                }
                answer.setBody(new Data(new Binary(result == null ? new byte[0] : result)));
            } else {
                HubException e = ar.cause() instanceof HubException h ? h : ErrorCode.SERVER_ERROR.exception("Internal error");
                if (!(ar.cause() instanceof HubException)) {
                    LOG.warn("Twin operation of {} failed", ds.identity, ar.cause());
                }
                annotations.put(STATUS, e.errorCode().httpStatus());
                answer.setBody(new Data(new Binary(Json.bytes(ErrorJson.of(e)))));
            }
            answer.setMessageAnnotations(new MessageAnnotations(annotations));
            ds.connection.send(ds.twinSender, answer, null);
        });
    }

    static String annotation(Message m, Symbol key) {
        if (m.getMessageAnnotations() == null || m.getMessageAnnotations().getValue() == null) {
            return null;
        }
        Object v = m.getMessageAnnotations().getValue().get(key);
        return v == null ? null : v.toString();
    }

    // ---- methods -------------------------------------------------------------------------------------------------

    private static void onMethodAnswer(AmqpDeviceSession ds, Message answer) {
        String requestId = ds.takeMethodRequestId(answer.getCorrelationId());
        if (requestId == null) {
            return; // late (timed out) or unknown answer: dropped, as IoT Hub does
        }
        Object status = answer.getApplicationProperties() == null ? null
                : answer.getApplicationProperties().getValue().get(AmqpDeviceSession.METHOD_STATUS);
        int code;
        try {
            code = status == null ? 200 : Integer.parseInt(status.toString());
        } catch (NumberFormatException e) {
            code = 500;
        }
        byte[] body = AmqpBodies.bytes(answer);
        JsonNode payload;
        try {
            payload = body.length == 0 ? Json.NODES.nullNode() : Json.MAPPER.readTree(body);
        } catch (IOException e) {
            payload = Json.NODES.textNode(new String(body, StandardCharsets.UTF_8));
        }
        ds.session.answerMethod(requestId, code, payload);
    }

    // ---- cloud-to-device -----------------------------------------------------------------------------------------

    /** The device's outcome for a C2D message: Accepted completes it, Released (or Modified) abandons, Rejected dead-letters. */
    private void settleC2d(AmqpDeviceSession ds, String lockToken, DeliveryState outcome) {
        if (outcome == null || ds.session == null) {
            return; // not delivered: the edge releases it when the connection ends
        }
        EdgeSession session = ds.session;
        workers.executeBlocking(() -> {
            if (outcome instanceof Accepted) {
                session.completeC2d(lockToken);
            } else if (outcome instanceof Rejected) {
                session.rejectC2d(lockToken);
            } else if (outcome instanceof Released || outcome instanceof org.apache.qpid.proton.amqp.messaging.Modified) {
                session.abandonC2d(lockToken);
            }
            return null;
        }, false).onFailure(e -> LOG.info("C2D outcome of {} not applied: {}", ds.identity, e.getMessage()));
    }
}
