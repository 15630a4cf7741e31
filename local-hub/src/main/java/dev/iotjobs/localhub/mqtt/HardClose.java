package dev.iotjobs.localhub.mqtt;

import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.mqtt.MqttEndpoint;

import java.lang.reflect.Field;

/**
 * Closes a device connection now, even when the device does not read. {@link MqttEndpoint#close()} closes only
 * after everything queued has been written, which never happens for a peer that stopped reading: the
 * connection (and what it queued) would stay. Vert.x MQTT offers no other close, so this reaches the endpoint's
 * socket and closes its Netty channel: queued writes are dropped, TLS gets its close-notify attempt (bounded
 * by Netty's 3 s flush timeout) and the connection is gone. Falls back to the graceful close if the endpoint
 * is not Vert.x's implementation.
 */
final class HardClose {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HardClose.class);
    private static final Field SOCKET = socketField();

    private HardClose() {
    }

    private static Field socketField() {
        try {
            Field f = Class.forName("io.vertx.mqtt.impl.MqttEndpointImpl").getDeclaredField("conn");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("Vert.x MQTT endpoint socket not reachable ({}): connections close gracefully", e.toString());
            return null;
        }
    }

    static void close(MqttEndpoint endpoint) {
        if (SOCKET != null && SOCKET.getDeclaringClass().isInstance(endpoint)) {
            try {
                ((NetSocketInternal) SOCKET.get(endpoint)).channelHandlerContext().channel().close();
                return;
            } catch (IllegalAccessException | RuntimeException e) {
                LOG.debug("Hard close failed ({}): closing gracefully", e.toString());
            }
        }
        endpoint.close();
    }
}
