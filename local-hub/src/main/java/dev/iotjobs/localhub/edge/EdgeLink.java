package dev.iotjobs.localhub.edge;

import dev.iotjobs.localhub.c2d.C2dDelivery;
import java.time.Duration;

/**
 * What a device transport implements for one connection: the things the hub sends to the device. The edge calls
 * these from any thread; the transport hands them to its connection's own thread and never blocks the caller.
 * MQTT maps them to PUBLISH packets; an AMQP adapter to transfers on the connection's links.
 */
public interface EdgeLink {

    /** A direct method call; the device answers with {@link EdgeSession#answerMethod}. False if it could not be sent. */
    boolean methodRequest(String requestId, String methodName, byte[] payloadJson);

    /** A desired-property patch with its new {@code $version}. */
    void desiredPatch(long version, byte[] patchJson);

    /**
     * A cloud-to-device message; the device settles it with {@link EdgeSession#completeC2d} (or abandon/reject
     * where the protocol can). False if the connection cannot take it now (it is then released).
     */
    boolean c2dMessage(C2dDelivery delivery);

    /**
     * How long a cloud-to-device message handed to this connection stays locked: null (MQTT) keeps it locked until
     * the device settles it or the connection closes, since MQTT cannot abandon; a transport whose devices can
     * abandon (AMQP) returns the hub's lock duration, after which an unsettled message goes back to the queue.
     */
    default Duration c2dLock() {
        return null;
    }

    /** The hub ends the connection: SAS token expired, identity disabled or deleted, or a newer connection took over. */
    void disconnect(String reason);
}
