package dev.iotjobs.localhub.mqtt;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.mqtt.MqttEndpoint;

import java.lang.reflect.Field;

/**
 * Closes a device connection now, even when the device does not read. {@link MqttEndpoint#close()} closes only
 * after everything queued has been written, which never happens for a peer that stopped reading: the
 * connection (and what it queued) would stay. Vert.x MQTT offers no other close, so this reaches the endpoint's
 * socket and closes its Netty channel from the bottom of the pipeline: queued writes are failed (their bytes
 * freed), no close-notify is attempted, and the connection is gone at once. Falls back to the graceful close
 * if the endpoint is not Vert.x's implementation.
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
                Channel channel = ((NetSocketInternal) SOCKET.get(endpoint)).channelHandlerContext().channel();
                // From the first handler's context the close goes straight to the socket: past Vert.x's handler
                // (which would wait for the flush) and past TLS (whose close-notify would wait for it too).
                // The pipeline still sees the channel go inactive, so Vert.x and the session learn of the close.
                ChannelHandlerContext first = channel.pipeline().firstContext();
                if (first != null) {
                    first.close();
                } else {
                    channel.close();
                }
                return;
            } catch (IllegalAccessException | RuntimeException e) {
                LOG.debug("Hard close failed ({}): closing gracefully", e.toString());
            }
        }
        endpoint.close();
    }
}
