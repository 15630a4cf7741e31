package dev.iotjobs.localhub.mqtt;

import dev.iotjobs.localhub.c2d.C2dDelivery;
import dev.iotjobs.localhub.edge.EdgeLink;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttEndpoint;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One MQTT connection as the device edge sees it: what the hub sends, written as IoT Hub's PUBLISH packets on
 * the connection's own event loop. A device that does not read cannot make the hub buffer more than
 * {@code maxBytes}: the hub then closes the connection (the SDK reconnects).
 */
final class MqttLink implements EdgeLink {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MqttLink.class);
    final MqttEndpoint endpoint;
    private final EventLoopOutbox outbox;
    private final String clientId;
    private final int maxBytes;
    /** Event loop only. */
    private long queuedBytes;
    private boolean overflowed;
    private int nextPacketId = 1;
    /** Cloud-to-device messages sent at QoS 1 and not yet PUBACKed: packet id to lock token. */
    final Map<Integer, String> c2dPackets = new ConcurrentHashMap<>();

    MqttLink(MqttEndpoint endpoint, EventLoopOutbox outbox, String clientId, int maxBytes) {
        this.endpoint = endpoint;
        this.outbox = outbox;
        this.clientId = clientId;
        this.maxBytes = maxBytes;
    }

    @Override
    public boolean methodRequest(String requestId, String methodName, byte[] payloadJson) {
        if (!endpoint.isConnected()) {
            return false;
        }
        publish(DeviceTopics.methodRequest(methodName, requestId), payloadJson);
        return true;
    }

    @Override
    public void desiredPatch(long version, byte[] patchJson) {
        publish(DeviceTopics.desiredPatch(version), patchJson);
    }

    @Override
    public boolean c2dMessage(C2dDelivery delivery) {
        if (!endpoint.isConnected()) {
            return false;
        }
        String topic = DeviceTopics.devicebound(clientId, delivery.message());
        outbox.execute(() -> {
            if (!endpoint.isConnected()) {
                return; // released when the connection's close is handled
            }
            int packetId = nextPacketId;
            nextPacketId = nextPacketId == 65535 ? 1 : nextPacketId + 1;
            c2dPackets.put(packetId, delivery.lockToken());
            endpoint.publish(topic, Buffer.buffer(delivery.message().body()), MqttQoS.AT_LEAST_ONCE,
                    delivery.redelivered(), false, packetId);
        });
        return true;
    }

    @Override
    public void disconnect(String reason) {
        LOG.info("Closing the MQTT connection of {}: {}", clientId, reason);
        outbox.execute(() -> {
            if (endpoint.isConnected()) {
                endpoint.close();
            }
        });
    }

    /** Publishes at QoS 0 on the connection's own event loop. */
    void publish(String topic, byte[] payload) {
        outbox.execute(() -> write(topic, payload));
    }

    /**
     * Hands one PUBLISH to the socket, counting its bytes until Netty has written them. One message is always let
     * through, however large, so a small limit cannot block a large answer.
     */
    private void write(String topic, byte[] payload) {
        if (!endpoint.isConnected() || overflowed) {
            LOG.debug("{} disconnected meanwhile: dropped {}", clientId, topic);
            return;
        }
        long size = topic.length() + payload.length + 8L;
        if (queuedBytes > 0 && queuedBytes + size > maxBytes) {
            overflowed = true;
            LOG.warn("Device {} does not read: {} bytes wait for its socket (limit {}); disconnecting it",
                    clientId, queuedBytes, maxBytes);
            HardClose.close(endpoint);
            return;
        }
        queuedBytes += size;
        endpoint.publish(topic, Buffer.buffer(payload), MqttQoS.AT_MOST_ONCE, false, false)
                .onComplete(ar -> {
                    queuedBytes -= size;
                    if (ar.failed()) {
                        LOG.debug("{}: publish to {} failed: {}", clientId, topic, ar.cause().toString());
                    }
                });
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
