package dev.iotjobs.localhub.mqtt;

import dev.iotjobs.localhub.method.MethodResponse;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttEndpoint;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A device's MQTT session. Like IoT Hub (clean session 0), its subscriptions outlive a connection: the
 * device SDK does not re-subscribe to methods or desired properties after a reconnect.
 */
final class DeviceSession {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DeviceSession.class);
    final String deviceId;
    final Set<String> subscriptions = ConcurrentHashMap.newKeySet();
    final Map<String, CompletableFuture<MethodResponse>> pendingMethods = new ConcurrentHashMap<>();
    private final AtomicLong nextRid = new AtomicLong(1);
    private volatile MqttEndpoint endpoint;
    private volatile EventLoopOutbox outbox;
    private volatile Link link;

    /**
     * What one connection holds: bytes handed to its socket and not yet written (event loop only), and its twin
     * requests in progress. A device that does not read cannot make the hub buffer more than {@code maxBytes}.
     */
    static final class Link {
        final MqttEndpoint endpoint;
        final int maxBytes;
        final int maxTwinRequests;
        final AtomicInteger twinRequests = new AtomicInteger();
        long queuedBytes;
        boolean overflowed;

        Link(MqttEndpoint endpoint, int maxBytes, int maxTwinRequests) {
            this.endpoint = endpoint;
            this.maxBytes = maxBytes;
            this.maxTwinRequests = maxTwinRequests;
        }

        /** Admits one more twin request of this connection, or says it is over its limit (then: 429). */
        boolean beginTwinRequest() {
            if (twinRequests.incrementAndGet() > maxTwinRequests) {
                twinRequests.decrementAndGet();
                return false;
            }
            return true;
        }

        void endTwinRequest() {
            twinRequests.decrementAndGet();
        }
    }

    DeviceSession(String deviceId) {
        this.deviceId = deviceId;
    }

    synchronized MqttEndpoint attach(MqttEndpoint newEndpoint, EventLoopOutbox newOutbox, int maxOutboundBytes,
                                     int maxTwinRequests) {
        MqttEndpoint previous = endpoint;
        endpoint = newEndpoint;
        outbox = newOutbox;
        link = new Link(newEndpoint, maxOutboundBytes, maxTwinRequests);
        return previous;
    }

    /** The current connection's link, or null when not connected. */
    Link link() {
        return link;
    }

    /** Detaches the endpoint if it is still the current one; returns whether it was. */
    synchronized boolean detach(MqttEndpoint closed) {
        if (endpoint != closed) {
            return false;
        }
        endpoint = null;
        outbox = null;
        link = null;
        return true;
    }

    boolean connected() {
        return endpoint != null;
    }

    boolean methodReady() {
        return endpoint != null && subscriptions.contains(DeviceTopics.METHODS_FILTER);
    }

    boolean desiredSubscribed() {
        return endpoint != null && subscriptions.contains(DeviceTopics.DESIRED_FILTER)
                || endpoint != null && subscriptions.contains("$iothub/twin/PATCH/properties/desired/");
    }

    String newRid() {
        return Long.toHexString(nextRid.getAndIncrement());
    }

    /** Publishes at QoS 0 on the connection's own event loop; false if not connected. */
    boolean publish(String topic, byte[] payload) {
        Link current = link;
        EventLoopOutbox loop = outbox;
        if (current == null || loop == null) {
            LOG.debug("Device {} not connected: dropped {}", deviceId, topic);
            return false;
        }
        loop.execute(() -> write(current, topic, payload));
        return true;
    }

    /**
     * Hands one PUBLISH to the socket, counting its bytes until Netty has written them. When a device lets more
     * than its limit pile up (it does not read), the hub stops writing to it and closes the connection: its
     * memory stays bounded and the device SDK reconnects (IoT Hub does not buffer without bound either).
     * One message is always let through, however large, so a small limit cannot block a large answer.
     */
    private void write(Link current, String topic, byte[] payload) {
        MqttEndpoint endpoint = current.endpoint;
        if (!endpoint.isConnected() || current.overflowed) {
            LOG.debug("Device {} disconnected meanwhile: dropped {}", deviceId, topic);
            return;
        }
        long size = topic.length() + payload.length + 8L;
        if (current.queuedBytes > 0 && current.queuedBytes + size > current.maxBytes) {
            current.overflowed = true;
            LOG.warn("Device {} does not read: {} bytes wait for its socket (limit {}); disconnecting it",
                    deviceId, current.queuedBytes, current.maxBytes);
            HardClose.close(endpoint);
            return;
        }
        current.queuedBytes += size;
        endpoint.publish(topic, Buffer.buffer(payload), MqttQoS.AT_MOST_ONCE, false, false)
                .onComplete(ar -> {
                    current.queuedBytes -= size;
                    if (ar.failed()) {
                        LOG.debug("Device {}: publish to {} failed: {}", deviceId, topic, ar.cause().toString());
                    }
                });
    }

    void close() {
        MqttEndpoint current = endpoint;
        EventLoopOutbox loop = outbox;
        if (current != null && loop != null) {
            loop.execute(() -> {
                if (current.isConnected()) {
                    current.close();
                }
            });
        }
    }
}
