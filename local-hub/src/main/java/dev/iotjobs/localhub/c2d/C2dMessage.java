package dev.iotjobs.localhub.c2d;

import java.time.Instant;
import java.util.Map;

/**
 * One cloud-to-device message as the hub keeps it: what the service sent, and the hub's stamps. Immutable; its
 * state in the queue (enqueued or locked, delivery count) is kept by {@link C2dQueues}.
 *
 * @param sequenceNumber unique and increasing within the hub, the queue's order
 * @param messageId      the service's message-id (the hub makes one up when the service sent none)
 * @param correlationId  or null
 * @param userId         or null
 * @param contentType    or null
 * @param contentEncoding or null
 * @param ack            the feedback asked for
 * @param properties     application properties, in the order sent
 * @param enqueuedTime   when the hub accepted it
 * @param expiryTime     when it is dead-lettered as Expired if not completed
 */
public record C2dMessage(
        long sequenceNumber,
        String deviceId,
        String messageId,
        String correlationId,
        String userId,
        String contentType,
        String contentEncoding,
        C2dAck ack,
        Map<String, String> properties,
        byte[] body,
        Instant enqueuedTime,
        Instant expiryTime) {

    /** IoT Hub's message size: the body, the values of the system properties, names and values of the others. */
    static int size(String messageId, String correlationId, String userId, String contentType, String contentEncoding,
                    Map<String, String> properties, byte[] body) {
        int size = body.length + len(messageId) + len(correlationId) + len(userId) + len(contentType) + len(contentEncoding);
        for (Map.Entry<String, String> e : properties.entrySet()) {
            size += len(e.getKey()) + len(e.getValue());
        }
        return size;
    }

    private static int len(String s) {
        return s == null ? 0 : s.length();
    }

    /** The device path IoT Hub puts in a message's {@code to}. */
    public String to() {
        return "/devices/" + deviceId + "/messages/deviceBound";
    }
}
