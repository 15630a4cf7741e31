package dev.iotjobs.localhub.c2d;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Collections;

/**
 * What a service asks to send to a device (the later AMQP "send C2D" link, the console, the tests).
 *
 * @param messageId      the message-id, or null to let the hub make one up
 * @param ack            the feedback asked for
 * @param absoluteExpiry the message's absolute-expiry-time, or null for the hub's default time to live
 */
public record C2dSend(String deviceId, byte[] body, Map<String, String> properties, String messageId,
                      String correlationId, String userId, String contentType, String contentEncoding,
                      C2dAck ack, Instant absoluteExpiry) {

    public C2dSend {
        properties = properties == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(properties));
        body = body == null ? new byte[0] : body;
        ack = ack == null ? C2dAck.NONE : ack;
    }

    /** A message with a body and nothing else (no feedback, default expiry). */
    public static C2dSend of(String deviceId, byte[] body) {
        return new C2dSend(deviceId, body, Map.of(), null, null, null, null, null, C2dAck.NONE, null);
    }
}
