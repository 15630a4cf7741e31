package dev.iotjobs.localhub;

import io.vertx.core.Future;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.NetServer;
import io.vertx.mqtt.MqttServer;
import io.vertx.proton.ProtonServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Stops one listener the way a stopping hub must: it stops accepting at once, and its open connections close only
 * after a grace period. Closing both together (what {@code close()} does) lets a device whose connection was just
 * closed reconnect to another event loop's listener on the same port that is still open, and then be dropped in
 * the middle of its TLS handshake, which the Java device SDK treats as final ("Remote host terminated the
 * handshake" is not retryable for it): the device would never come back. Vert.x's {@code shutdown(timeout)} does
 * it in that order; Vert.x MQTT and vertx-proton offer only {@code close()}, so their Vert.x TCP server is reached
 * (as {@code mqtt.HardClose} reaches an endpoint's socket), with their own close as the fallback.
 */
final class ListenerShutdown {
    private static final Logger LOG = LoggerFactory.getLogger(ListenerShutdown.class);
    private static final Field MQTT_SERVER = innerServer("io.vertx.mqtt.impl.MqttServerImpl");
    private static final Field PROTON_SERVER = innerServer("io.vertx.proton.impl.ProtonServerImpl");

    private ListenerShutdown() {
    }

    static Future<Void> shutdown(Object listener, Duration grace) {
        long millis = grace.toMillis();
        if (listener instanceof HttpServer http) {
            return http.shutdown(millis, TimeUnit.MILLISECONDS);
        }
        NetServer inner = inner(listener, MQTT_SERVER);
        if (inner == null) {
            inner = inner(listener, PROTON_SERVER);
        }
        if (inner != null) {
            return inner.shutdown(millis, TimeUnit.MILLISECONDS);
        }
        if (listener instanceof MqttServer mqtt) {
            return mqtt.close();
        }
        if (listener instanceof ProtonServer proton) {
            proton.close();
        }
        return Future.succeededFuture();
    }

    private static NetServer inner(Object listener, Field field) {
        if (field == null || !field.getDeclaringClass().isInstance(listener)) {
            return null;
        }
        try {
            return (NetServer) field.get(listener);
        } catch (IllegalAccessException | RuntimeException e) {
            LOG.debug("Listener's TCP server not reachable ({}): it closes at once", e.toString());
            return null;
        }
    }

    private static Field innerServer(String className) {
        try {
            Field f = Class.forName(className).getDeclaredField("server");
            if (!NetServer.class.isAssignableFrom(f.getType())) {
                return null;
            }
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("{} has no reachable TCP server ({}): its listeners close at once", className, e.toString());
            return null;
        }
    }
}
