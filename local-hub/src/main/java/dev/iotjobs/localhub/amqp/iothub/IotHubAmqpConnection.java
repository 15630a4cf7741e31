package dev.iotjobs.localhub.amqp.iothub;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonLink;
import io.vertx.proton.ProtonQoS;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import io.vertx.proton.ProtonSession;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transport.AmqpError;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.model.IdentityKey;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One client connection to the IoT Hub AMQP endpoint (5671, or a WebSocket on 443): its sessions, its claims
 * (accepted put-tokens and TLS client certificate) and its links, each routed by address ({@link LinkAddress}) to
 * the claims-based security node or a device or service link. Runs on the connection's event loop only.
 * <p>
 * Every attach is answered with the client's source and target echoed (vertx-proton echoes neither by itself);
 * a refused attach is answered and detached at once with an error condition saying why. Bounds per connection:
 * sessions, links, the credit of each receiving link (so unsettled deliveries), message size ({@link AmqpLimits}).
 */
final class IotHubAmqpConnection {
    private static final Logger LOG = LoggerFactory.getLogger(IotHubAmqpConnection.class);
    static final Symbol STATUS_CODE = Symbol.valueOf("status-code");

    private final IotHubAmqpEndpoint endpoint;
    private final ProtonConnection connection;
    private final ConnectionFacts facts;
    private final Context context;
    private final Vertx vertx;
    /** Accepted claims by audience: a renewed put-token for the same audience replaces the older one. */
    private final Map<String, Claim> claims = new HashMap<>();
    private final Map<String, Long> expiryTimers = new HashMap<>();
    /** Open device and service links with what authorised them. */
    private final Map<ProtonLink<?>, LinkAddress> links = new LinkedHashMap<>();
    private final List<Runnable> onClose = new ArrayList<>();
    private final Map<ProtonLink<?>, Runnable> linkEnds = new HashMap<>();
    private ProtonSender cbsReplies;
    private int sessions;
    private int linkCount;
    private boolean closed;

    IotHubAmqpConnection(IotHubAmqpEndpoint endpoint, ProtonConnection connection, ConnectionFacts facts, Vertx vertx) {
        this.endpoint = endpoint;
        this.connection = connection;
        this.facts = facts;
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
    }

    void start() {
        connection.openHandler(ar -> {
            connection.setContainer(WellKnownKeys.HOST_NAME);
            connection.open();
        });
        connection.closeHandler(ar -> {
            connection.close();
            connection.disconnect();
            cleanUp();
        });
        connection.disconnectHandler(c -> cleanUp());
        connection.sessionOpenHandler(this::onSession);
        connection.receiverOpenHandler(this::onReceiver);
        connection.senderOpenHandler(this::onSender);
    }

    Context context() {
        return context;
    }

    Vertx vertx() {
        return vertx;
    }

    IotHubAmqpEndpoint endpoint() {
        return endpoint;
    }

    ConnectionFacts facts() {
        return facts;
    }

    boolean isClosed() {
        return closed;
    }

    /** Runs when the connection ends (links of the core let go of this connection). */
    void onClose(Runnable action) {
        onClose.add(action);
    }

    private void cleanUp() {
        if (closed) {
            return;
        }
        closed = true;
        expiryTimers.values().forEach(vertx::cancelTimer);
        expiryTimers.clear();
        endpoint.connectionClosed(this);
        for (Runnable r : onClose) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("AMQP connection clean-up failed", e);
            }
        }
        onClose.clear();
        linkEnds.values().forEach(Runnable::run);
        linkEnds.clear();
        links.clear();
    }

    private void onSession(ProtonSession session) {
        if (sessions >= endpoint.limits().sessionsPerConnection()) {
            LOG.info("Refused an AMQP session: the connection already has {} sessions", sessions);
            session.setCondition(new ErrorCondition(AmqpError.RESOURCE_LIMIT_EXCEEDED, "This connection already has "
                    + sessions + " sessions, the most the hub allows on one connection; close one or open another connection."));
            session.open();
            session.close();
            return;
        }
        sessions++;
        session.closeHandler(ar -> {
            sessions--;
            session.close();
        });
        session.open();
    }

    // ---- attach routing ------------------------------------------------------------------------------------------

    private void onReceiver(ProtonReceiver receiver) {
        echo(receiver);
        String address = receiver.getRemoteTarget() == null ? null : receiver.getRemoteTarget().getAddress();
        LinkAddress target = LinkAddress.parse(address);
        if (!admitLink(receiver, address)) {
            return;
        }
        switch (target.kind()) {
            case CBS -> openCbsRequests(receiver);
            case TELEMETRY, TWIN, METHODS -> {
                if (authorizeDevice(receiver, target)) {
                    track(receiver, target);
                    endpoint.devices().openFromDevice(this, receiver, target);
                }
            }
            case DEVICE_BOUND -> refuse(receiver, AmqpError.NOT_ALLOWED, "'" + address
                    + "' is where a device receives cloud-to-device messages: attach a receiver, not a sender.");
            case SERVICE_C2D -> {
                if (authorizeService(receiver, address)) {
                    track(receiver, target);
                    endpoint.services().openCloudToDevice(this, receiver);
                }
            }
            default -> refuse(receiver, AmqpError.NOT_FOUND, "The hub has no node '" + address
                    + "' to send to. Senders attach to $cbs, /devices/{id}/messages/events, /devices/{id}/twin, "
                    + "/devices/{id}/methods/devicebound (also under /modules/{moduleId}) or /messages/devicebound.");
        }
    }

    private void onSender(ProtonSender sender) {
        echo(sender);
        String address = sender.getRemoteSource() == null ? null : sender.getRemoteSource().getAddress();
        LinkAddress source = LinkAddress.parse(address);
        if (!admitLink(sender, address)) {
            return;
        }
        switch (source.kind()) {
            case CBS -> openCbsReplies(sender);
            case DEVICE_BOUND, TWIN, METHODS -> {
                if (authorizeDevice(sender, source)) {
                    track(sender, source);
                    endpoint.devices().openToDevice(this, sender, source);
                }
            }
            case TELEMETRY -> {
                if (source.identity().isModule()) { // a module's input messages (gateway address): its C2D queue
                    if (authorizeDevice(sender, source)) {
                        LinkAddress inputs = new LinkAddress(LinkAddress.Kind.DEVICE_BOUND, source.identity());
                        track(sender, inputs);
                        endpoint.devices().openToDevice(this, sender, inputs);
                    }
                } else {
                    refuse(sender, AmqpError.NOT_ALLOWED, "'" + address
                            + "' is where a device sends telemetry: attach a sender, not a receiver.");
                }
            }
            case FEEDBACK, FILE_NOTIFICATIONS -> {
                if (authorizeService(sender, address)) {
                    track(sender, source);
                    endpoint.services().openToService(this, sender, source);
                }
            }
            default -> refuse(sender, AmqpError.NOT_FOUND, "The hub has no node '" + address
                    + "' to receive from. Receivers attach to $cbs, /devices/{id}/messages/devicebound, /devices/{id}/twin, "
                    + "/devices/{id}/methods/devicebound (also under /modules/{moduleId}), "
                    + "/messages/serviceBound/feedback or /messages/serviceBound/filenotifications.");
        }
    }

    /** vertx-proton copies neither source nor target of a remote attach: echo both, as IoT Hub does. */
    private static void echo(ProtonLink<?> link) {
        link.setSource(link.getRemoteSource());
        link.setTarget(link.getRemoteTarget());
        link.setQoS(link.getRemoteQoS() == null ? ProtonQoS.AT_LEAST_ONCE : link.getRemoteQoS());
    }

    private boolean admitLink(ProtonLink<?> link, String address) {
        if (linkCount >= endpoint.limits().linksPerConnection()) {
            LOG.info("Refused AMQP link to {}: the connection already has {} links", address, linkCount);
            refuse(link, AmqpError.RESOURCE_LIMIT_EXCEEDED, "This connection already has " + linkCount
                    + " links, the most the hub allows on one connection; detach one or open another connection.");
            return false;
        }
        linkCount++;
        link.closeHandler(ar -> {
            linkEnded(link);
            link.close();
        });
        link.detachHandler(ar -> {
            linkEnded(link);
            link.detach();
        });
        return true;
    }

    private void linkEnded(ProtonLink<?> link) {
        linkCount--;
        links.remove(link);
        Runnable end = linkEnds.remove(link);
        if (end != null) {
            end.run();
        }
    }

    /** Runs when the client detaches {@code link} (not when the whole connection ends: see {@link #onClose}). */
    void onLinkEnd(ProtonLink<?> link, Runnable action) {
        linkEnds.put(link, action);
    }

    private void track(ProtonLink<?> link, LinkAddress address) {
        links.put(link, address);
    }

    /** Attaches the link only to detach it with {@code condition}: the client reads why. */
    static void refuse(ProtonLink<?> link, Symbol condition, String description) {
        link.setCondition(new ErrorCondition(condition, description));
        link.open();
        link.close();
    }

    // ---- authorization -------------------------------------------------------------------------------------------

    private boolean authorizeDevice(ProtonLink<?> link, LinkAddress address) {
        IdentityKey identity = address.identity();
        if (claimFor(identity) != null) {
            return true;
        }
        String why;
        if (facts.clientCertificates() != null) {
            TokenCheck.Outcome outcome = endpoint.tokens().certificate(identity, facts.clientCertificates());
            if (outcome.claim() != null) {
                grant(outcome.claim());
                return true;
            }
            why = outcome.reason();
        } else {
            why = "no put-token on $cbs authorised " + identity + " on this connection";
        }
        LOG.info("Refused AMQP link of {} to {}: {}", identity, link.getRemoteAddress(), why);
        refuse(link, AmqpError.UNAUTHORIZED_ACCESS, "Unauthorized: " + why
                + ". Put a SAS token for this device or module on $cbs first, or connect with its X.509 certificate.");
        return false;
    }

    private boolean authorizeService(ProtonLink<?> link, String address) {
        for (Claim c : claims.values()) {
            if (c.coversService()) {
                return true;
            }
        }
        LOG.info("Refused AMQP service link to {}: no put-token of a policy with ServiceConnect", address);
        refuse(link, AmqpError.UNAUTHORIZED_ACCESS, "Unauthorized: '" + address + "' needs a put-token on $cbs for "
                + "the whole hub (sr=" + WellKnownKeys.HOST_NAME + ") of a shared access policy with ServiceConnect.");
        return false;
    }

    private Claim claimFor(IdentityKey identity) {
        for (Claim c : claims.values()) {
            if (c.coversDevice(identity)) {
                return c;
            }
        }
        return null;
    }

    /** Whether some claim still covers {@code address} (used before the hub hands a link anything). */
    boolean authorized(LinkAddress address) {
        return address.identity() != null ? claimFor(address.identity()) != null
                : claims.values().stream().anyMatch(Claim::coversService);
    }

    void grant(Claim claim) {
        String audience = claim.audience();
        claims.put(audience, claim);
        Long old = expiryTimers.remove(audience);
        if (old != null) {
            vertx.cancelTimer(old);
        }
        if (claim.expiryEpochSeconds() > 0) {
            long millis = (claim.expiryEpochSeconds() - endpoint.clock().instant().getEpochSecond()) * 1000 + 1000;
            expiryTimers.put(audience, vertx.setTimer(Math.max(1, Math.min(millis, Long.MAX_VALUE / 4)), t -> expire(audience)));
        }
    }

    /**
     * A token that was not renewed in time: IoT Hub closes what it authorised; the SDKs then put a fresh token
     * on a new connection.
     */
    private void expire(String audience) {
        expiryTimers.remove(audience);
        claims.remove(audience);
        List<ProtonLink<?>> lost = new ArrayList<>();
        links.forEach((link, address) -> {
            if (!authorized(address)) {
                lost.add(link);
            }
        });
        if (!lost.isEmpty()) {
            LOG.info("AMQP token for {} expired: detaching {} link(s)", audience, lost.size());
        }
        for (ProtonLink<?> link : lost) {
            links.remove(link);
            link.setCondition(new ErrorCondition(AmqpError.UNAUTHORIZED_ACCESS,
                    "The SAS token for " + audience + " expired; put a new token on $cbs before it expires."));
            link.close();
        }
    }

    // ---- claims-based security ($cbs) ----------------------------------------------------------------------------

    private void openCbsReplies(ProtonSender sender) {
        cbsReplies = sender;
        sender.open();
    }

    private void openCbsRequests(ProtonReceiver receiver) {
        receiver.setAutoAccept(false);
        receiver.setPrefetch(0);
        receiver.setMaxMessageSize(new UnsignedLong(endpoint.limits().maxCbsMessageBytes()));
        receiver.handler((delivery, request) -> {
            Message reply = putToken(request);
            delivery.disposition(Accepted.getInstance(), true);
            if (cbsReplies != null && cbsReplies.isOpen()) {
                cbsReplies.send(reply);
            }
            receiver.flow(1);
        });
        receiver.open();
        receiver.flow(endpoint.limits().cbsCredit());
    }

    private Message putToken(Message request) {
        Map<?, ?> props = request.getApplicationProperties() == null ? Map.of() : request.getApplicationProperties().getValue();
        Object operation = props.get("operation");
        Object body = request.getBody() instanceof AmqpValue v ? v.getValue() : null;
        int status;
        String description;
        if (!"put-token".equals(String.valueOf(operation))) {
            status = 400;
            description = "Unsupported $cbs operation '" + operation + "'; only put-token is supported.";
        } else if (!(body instanceof String token)) {
            status = 400;
            description = "The put-token body must be an AMQP string holding the SAS token.";
        } else {
            TokenCheck.Outcome outcome = endpoint.tokens().check(token);
            if (outcome.claim() != null) {
                grant(outcome.claim());
                status = 200;
                description = "OK";
            } else {
                LOG.info("Refused AMQP put-token for {}: {}", props.get("name"), outcome.reason());
                status = outcome.status();
                description = "Unauthorized: " + outcome.reason();
            }
        }
        Message reply = Message.Factory.create();
        reply.setCorrelationId(request.getMessageId()); // same AMQP type: Java casts it to UUID, Node compares strings
        Map<String, Object> replyProps = new HashMap<>();
        replyProps.put("status-code", status); // an AMQP int: Java requires Integer
        replyProps.put("status-description", description);
        reply.setApplicationProperties(new ApplicationProperties(replyProps));
        return reply;
    }

    // ---- helpers for the link handlers ---------------------------------------------------------------------------

    static Rejected rejected(Symbol condition, String description) {
        Rejected r = new Rejected();
        r.setError(new ErrorCondition(condition, description));
        return r;
    }

    /** Closes the whole connection with a condition (IoT Hub does this for protocol violations). */
    void closeWith(Symbol condition, String description) {
        connection.setCondition(new ErrorCondition(condition, description));
        connection.close();
        connection.disconnect();
    }
}
