package dev.iotjobs.localhub.mqtt;

import dev.iotjobs.localhub.method.MethodResponse;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttEndpoint;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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

    DeviceSession(String deviceId) {
        this.deviceId = deviceId;
    }

    synchronized MqttEndpoint attach(MqttEndpoint newEndpoint, EventLoopOutbox newOutbox) {
        MqttEndpoint previous = endpoint;
        endpoint = newEndpoint;
        outbox = newOutbox;
        return previous;
    }

    /** Detaches the endpoint if it is still the current one; returns whether it was. */
    synchronized boolean detach(MqttEndpoint closed) {
        if (endpoint != closed) {
            return false;
        }
        endpoint = null;
        outbox = null;
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
        MqttEndpoint current = endpoint;
        EventLoopOutbox loop = outbox;
        if (current == null || loop == null) {
            LOG.debug("Device {} not connected: dropped {}", deviceId, topic);
            return false;
        }
        loop.execute(() -> write(current, topic, payload));
        return true;
    }

    private void write(MqttEndpoint current, String topic, byte[] payload) {
        if (current.isConnected()) {
            current.publish(topic, Buffer.buffer(payload), MqttQoS.AT_MOST_ONCE, false, false)
                    .onFailure(e -> LOG.debug("Device {}: publish to {} failed: {}", deviceId, topic, e.toString()));
        } else {
            LOG.debug("Device {} disconnected meanwhile: dropped {}", deviceId, topic);
        }
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
