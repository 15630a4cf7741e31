package dev.iotjobs.localhub.amqp;

import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonHelper;
import io.vertx.proton.ProtonQoS;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Claims-based security ({@code $cbs}) on one AMQP connection: the put-token node every Azure SDK uses to
 * authenticate after the connection is open, and the grants it holds.
 * <p>
 * A client attaches a sender with target {@code $cbs} (requests) and a receiver with source {@code $cbs} (answers).
 * Each request carries application properties {@code operation}={@code put-token}, {@code type}, {@code name} (the
 * audience) and the token as an AmqpValue string body. The answer goes on the client's {@code $cbs} receiver with
 * the request's message id as correlation id, <em>in the request's own AMQP type</em> (uuid from the Java IoT SDKs,
 * string from Node, ulong from Event Hubs: each matches by type), and {@code status-code} as an AMQP {@code int}
 * (the Java SDKs require {@code Integer}) with a {@code status-description} string. A put-token for an audience
 * already granted replaces that grant (token renewal on a live connection).
 * <p>
 * What a token grants is the adapter's {@link TokenValidator}'s decision; the adapter then asks
 * {@link #grant(Predicate)} when a link attaches. Use: {@code Cbs cbs = Cbs.install(connection, validator, clock)}
 * in the connection handler, then in the sender/receiver open handlers {@code if (cbs.handles(link)) return;}.
 * Runs on the connection's event loop only.
 */
public final class Cbs {
    private static final Logger LOG = LoggerFactory.getLogger(Cbs.class);
    public static final String ADDRESS = "$cbs";

    /** A token the validator accepted: its audience, whom it names (a policy, a device), until when. */
    public record Grant(String audience, Object principal, Instant expiry) {
        public boolean isValidAt(Instant now) {
            return expiry.isAfter(now);
        }
    }

    /** Decides what a put-token grants. */
    public interface TokenValidator {
        /**
         * @param token    the body (a SAS token for {@code servicebus.windows.net:sastoken})
         * @param type     the request's {@code type}
         * @param audience the request's {@code name}
         * @return the grant
         * @throws Refusal with the status code and description to answer
         */
        Grant validate(String token, String type, String audience) throws Refusal;
    }

    /** A refused request: the CBS status code (401 bad or expired token, 400 malformed) and why. */
    public static final class Refusal extends Exception {
        private final int status;

        public Refusal(int status, String description) {
            super(description, null, false, false);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final ProtonConnection connection;
    private final TokenValidator validator;
    private final Clock clock;
    private final Map<String, Grant> grants = new HashMap<>();
    private ProtonSender replies;

    private Cbs(ProtonConnection connection, TokenValidator validator, Clock clock) {
        this.connection = connection;
        this.validator = validator;
        this.clock = clock;
    }

    /** The CBS node of a new connection. */
    public static Cbs install(ProtonConnection connection, TokenValidator validator, Clock clock) {
        Cbs cbs = new Cbs(connection, validator, clock);
        connection.attachments().set(Cbs.class.getName(), Cbs.class, cbs);
        return cbs;
    }

    /** The CBS node installed on a connection, or null. */
    public static Cbs of(ProtonConnection connection) {
        return connection.attachments().get(Cbs.class.getName(), Cbs.class);
    }

    /** Takes a remote sender (our receiver) that targets {@code $cbs}; false if it is another link. */
    public boolean handles(ProtonReceiver requests) {
        if (!(requests.getRemoteTarget() instanceof Target target) || !ADDRESS.equals(target.getAddress())) {
            return false;
        }
        requests.setAutoAccept(false);
        requests.handler((delivery, request) -> {
            answer(request);
            if (!delivery.remotelySettled()) {
                ProtonHelper.accepted(delivery, true);
            }
        });
        Links.accept(requests);
        return true;
    }

    /** Takes a remote receiver (our sender) whose source is {@code $cbs}: the answers go there. */
    public boolean handles(ProtonSender answers) {
        if (!(answers.getRemoteSource() instanceof Source source) || !ADDRESS.equals(source.getAddress())) {
            return false;
        }
        answers.setQoS(ProtonQoS.AT_LEAST_ONCE);
        answers.closeHandler(closed -> {
            if (replies == answers) {
                replies = null;
            }
            answers.close();
        });
        replies = answers;
        Links.accept(answers);
        return true;
    }

    /** A valid grant that satisfies {@code test}, if any. */
    public Optional<Grant> grant(Predicate<Grant> test) {
        Instant now = clock.instant();
        return grants.values().stream().filter(g -> g.isValidAt(now) && test.test(g)).findFirst();
    }

    private void answer(Message request) {
        Map<String, Object> props = Replies.applicationProperties(request);
        String operation = Replies.string(props.get("operation"));
        String type = Replies.string(props.get("type"));
        String audience = Replies.string(props.get("name"));
        int status;
        String description;
        if (!"put-token".equals(operation)) {
            status = 400;
            description = "The $cbs node supports operation put-token only, not '" + operation + "'.";
        } else if (!(request.getBody() instanceof AmqpValue value) || !(value.getValue() instanceof String token)
                || audience == null) {
            status = 400;
            description = "A put-token request needs the token as an AMQP string body and its audience as 'name'.";
        } else {
            try {
                Grant grant = validator.validate(token, type, audience);
                grants.put(audience, grant);
                status = 200;
                description = "OK";
            } catch (Refusal refusal) {
                status = refusal.status();
                description = refusal.getMessage();
                LOG.info("Refused a put-token for {}: {}", audience, description);
            }
        }
        if (replies == null || !replies.isOpen()) {
            LOG.debug("A put-token arrived before the client's $cbs receiver: no answer sent");
            return;
        }
        replies.send(Replies.response(request, status, description, null));
    }

    ProtonConnection connection() {
        return connection;
    }
}
