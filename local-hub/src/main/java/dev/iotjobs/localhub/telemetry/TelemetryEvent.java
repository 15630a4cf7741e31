package dev.iotjobs.localhub.telemetry;

import java.time.Instant;

/**
 * One event of the telemetry log: a device-to-cloud message as the hub enqueued it, with its place in its
 * partition. The offset is the sequence number's decimal text (any increasing number satisfies the Event Hubs
 * clients, which parse it with {@code Long.valueOf}).
 *
 * @param partition      the partition (0-based) the device's id hashes to
 * @param sequenceNumber the event's number in its partition, from 0, never reused
 * @param enqueuedTime   when the hub accepted it (never earlier than the previous event of the partition)
 * @param message        what the device sent and who sent it
 */
public record TelemetryEvent(int partition, long sequenceNumber, Instant enqueuedTime, TelemetryMessage message) {

    /** The event's offset in its partition, as Event Hubs clients see it. */
    public String offset() {
        return Long.toString(sequenceNumber);
    }

    /** {@code iothub-message-source} of a device's telemetry, as IoT Hub stamps it on the built-in endpoint. */
    public static final String SOURCE_TELEMETRY = "Telemetry";
}
