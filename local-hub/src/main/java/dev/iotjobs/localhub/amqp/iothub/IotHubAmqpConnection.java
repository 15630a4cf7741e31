package dev.iotjobs.localhub.amqp.iothub;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonLink;
import io.vertx.proton.ProtonQoS;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import io.vertx.proton.ProtonSession;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transport.AmqpError;
import org.apache.qpid.proton.amqp.transport.ConnectionError;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.iotjobs.localhub.amqp.Cbs;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.model.IdentityKey;

import java.time.Instant;
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
    /** How long a refused connection's client has to answer the hub's close before its socket is closed. */
    static final long REFUSAL_CLOSE_GRACE_MILLIS = 5_000;

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
    private Cbs cbs;
    /** The devices and modules this connection carries, each opened through the device edge on its first link. */
    private final Map<IdentityKey, Future<AmqpDeviceSession>> deviceSessions = new HashMap<>();
    private int sessions;
    private int linkCount;
    private boolean closed;
    /** Set when the hub refused the whole connection ({@link #refuseWith}): links attached after it are ignored. */
    private boolean refusing;

    IotHubAmqpConnection(IotHubAmqpEndpoint endpoint, ProtonConnection connection, ConnectionFacts facts, Vertx vertx) {
        this.endpoint = endpoint;
        this.connection = connection;
        this.facts = facts;
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
    }

    void start() {
        cbs = Cbs.install(connection, this::validate, endpoint.clock());
        connection.closeHandler(ar -> {
            connection.close();
            connection.disconnect();
            cleanUp();
        });
        connection.disconnectHandler(c -> {
            c.disconnect();
            cleanUp();
        });
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

    Map<IdentityKey, Future<AmqpDeviceSession>> deviceSessions() {
        return deviceSessions;
    }

    boolean isClosed() {
        return closed;
    }

    /** Closes the connection with {@code amqp:connection:forced} (see {@link IotHubAmqpEndpoint#closeAll}). */
    Future<Void> forceClose(String description) {
        Promise<Void> written = Promise.promise();
        context.runOnContext(v -> {
            refuseWith(ConnectionError.CONNECTION_FORCED, description);
            written.complete();
        });
        return written.future();
    }

    /** True once the hub has closed or refused this connection: nothing more is answered on it. */
    boolean isClosing() {
        return closed || refusing;
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
        linkEnds.clear();
        links.clear();
        for (Future<AmqpDeviceSession> f : List.copyOf(deviceSessions.values())) {
            f.onSuccess(AmqpDeviceSession::end);
        }
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
        if (refusing) { // the client's attaches crossed the hub's close: they get no answer
            return;
        }
        echo(receiver);
        String address = receiver.getRemoteTarget() == null ? null : receiver.getRemoteTarget().getAddress();
        LinkAddress target = LinkAddress.parse(address);
        if (!admitLink(receiver, address)) {
            return;
        }
        switch (target.kind()) {
            case CBS -> {
                receiver.setMaxMessageSize(new UnsignedLong(endpoint.limits().maxCbsMessageBytes()));
                receiver.setPrefetch(endpoint.limits().cbsCredit());
                cbs.handles(receiver);
            }
            case TELEMETRY, TWIN, METHODS -> {
                Claim claim = authorizeDevice(receiver, target);
                if (claim != null) {
                    track(receiver, target);
                    endpoint.devices().openFromDevice(this, claim, receiver, target);
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
        if (refusing) { // the client's attaches crossed the hub's close: they get no answer
            return;
        }
        echo(sender);
        String address = sender.getRemoteSource() == null ? null : sender.getRemoteSource().getAddress();
        LinkAddress source = LinkAddress.parse(address);
        if (!admitLink(sender, address)) {
            return;
        }
        switch (source.kind()) {
            case CBS -> cbs.handles(sender);
            case DEVICE_BOUND, TWIN, METHODS -> {
                Claim claim = authorizeDevice(sender, source);
                if (claim != null) {
                    track(sender, source);
                    endpoint.devices().openToDevice(this, claim, sender, source);
                }
            }
            case TELEMETRY -> {
                if (source.identity().isModule()) { // a module's input messages (gateway address)
                    Claim claim = authorizeDevice(sender, source);
                    if (claim != null) {
                        LinkAddress inputs = new LinkAddress(LinkAddress.Kind.DEVICE_BOUND, source.identity());
                        track(sender, inputs);
                        endpoint.devices().openToDevice(this, claim, sender, inputs);
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

    /** The claim that lets {@code link} of a device or module attach, or null after refusing it. */
    private Claim authorizeDevice(ProtonLink<?> link, LinkAddress address) {
        IdentityKey identity = address.identity();
        Claim claim = claimFor(identity);
        if (claim != null) {
            return claim;
        }
        String why;
        if (facts.clientCertificates() != null) {
            TokenCheck.Outcome outcome = endpoint.tokens().certificate(identity, facts.clientCertificates());
            if (outcome.claim() != null) {
                grant(outcome.claim());
                return outcome.claim();
            }
            why = outcome.reason();
        } else {
            why = "no put-token on $cbs authorised " + identity + " on this connection";
        }
        LOG.info("Refused AMQP link of {} to {}: {}", identity, link.getRemoteAddress(), why);
        refuse(link, AmqpError.UNAUTHORIZED_ACCESS, "Unauthorized: " + why
                + ". Put a SAS token for this device or module on $cbs first, or connect with its X.509 certificate.");
        return null;
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
        if (claim.identity() != null) {
            endpoint.devices().renewed(this, claim);
        }
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

    /** What a put-token grants on this connection: a device, a module or the service (see {@link TokenCheck}). */
    private Cbs.Grant validate(String token, String type, String audience) throws Cbs.Refusal {
        if (type != null && !type.equals("servicebus.windows.net:sastoken")) {
            throw new Cbs.Refusal(401, "Token type '" + type + "' is not supported: put a shared access signature "
                    + "(type servicebus.windows.net:sastoken).");
        }
        TokenCheck.Outcome outcome = endpoint.tokens().check(token);
        if (outcome.claim() == null) {
            throw new Cbs.Refusal(outcome.status(), "Unauthorized: " + outcome.reason());
        }
        grant(outcome.claim());
        return new Cbs.Grant(audience, outcome.claim(), Instant.ofEpochSecond(outcome.claim().expiryEpochSeconds()));
    }

    // ---- helpers for the link handlers ---------------------------------------------------------------------------

    /**
     * Sends on one of the hub's links to this client unless the client stops reading: when the socket's write
     * queue is full (the bytes the client has not taken), the connection is closed with
     * {@code amqp:resource-limit-exceeded} instead, as the MQTT endpoint disconnects a device that does not read.
     *
     * @return false when nothing was sent
     */
    boolean send(ProtonSender sender, org.apache.qpid.proton.message.Message message,
                 io.vertx.core.Handler<io.vertx.proton.ProtonDelivery> onUpdate) {
        if (closed || sender == null || !sender.isOpen()) {
            return false;
        }
        if (facts.socket() != null && facts.socket().writeQueueFull()) {
            LOG.info("AMQP client does not read what the hub sends (its socket's write queue is full): closing its connection");
            closeWith(AmqpError.RESOURCE_LIMIT_EXCEEDED, "The client does not read what the hub sends; the hub "
                    + "closed the connection.");
            return false;
        }
        if (onUpdate == null) {
            sender.send(message);
        } else {
            sender.send(message, onUpdate);
        }
        return true;
    }

    static Rejected rejected(Symbol condition, String description) {
        Rejected r = new Rejected();
        r.setError(new ErrorCondition(condition, description));
        return r;
    }

    /**
     * Refuses the connection as a whole: the hub sends its close with {@code condition} and keeps the socket open
     * until the client answers with its own close (then the close handler disconnects), so that the client reads
     * the condition rather than a reset; a client that does not answer within {@link #REFUSAL_CLOSE_GRACE_MILLIS}
     * is disconnected.
     */
    void refuseWith(Symbol condition, String description) {
        if (isClosing()) {
            return;
        }
        refusing = true;
        connection.setCondition(new ErrorCondition(condition, description));
        connection.close();
        long timer = vertx.setTimer(REFUSAL_CLOSE_GRACE_MILLIS, t -> connection.disconnect());
        onClose(() -> vertx.cancelTimer(timer));
    }

    /** Closes the whole connection with a condition (IoT Hub does this for protocol violations). */
    void closeWith(Symbol condition, String description) {
        connection.setCondition(new ErrorCondition(condition, description));
        connection.close();
        connection.disconnect();
    }
}
