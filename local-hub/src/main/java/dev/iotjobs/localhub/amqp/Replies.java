package dev.iotjobs.localhub.amqp;

import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.message.Message;

import java.util.HashMap;
import java.util.Map;

/**
 * Request/response over AMQP as Azure's nodes ({@code $cbs}, {@code $management}) do it: the answer's
 * correlation id is the request's message id in its own AMQP type (the clients match by type), the status in an
 * {@code int} application property {@code status-code}, a {@code status-description} string, the body an AmqpValue.
 */
public final class Replies {
    private Replies() {
    }

    /** The answer to {@code request}. */
    public static Message response(Message request, int status, String description, Object body) {
        Message response = Proton.message();
        response.setCorrelationId(request.getMessageId());
        Map<String, Object> props = new HashMap<>();
        props.put("status-code", status); // an Integer: the AMQP int the Java SDKs require
        props.put("status-description", description);
        response.setApplicationProperties(new ApplicationProperties(props));
        if (body != null) {
            response.setBody(new AmqpValue(body));
        }
        return response;
    }

    /** A message's application properties (keys as strings), empty when it has none. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> applicationProperties(Message message) {
        ApplicationProperties props = message.getApplicationProperties();
        if (props == null || props.getValue() == null) {
            return Map.of();
        }
        return (Map<String, Object>) props.getValue();
    }

    /** A string or symbol value as text, else null. */
    public static String string(Object value) {
        if (value instanceof String s) {
            return s;
        }
        return value instanceof Symbol symbol ? symbol.toString() : null;
    }
}
