package dev.iotjobs.localhub.mqtt;

import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.MqttConnectionException;
import io.vertx.mqtt.MqttServer;
import io.vertx.mqtt.MqttServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The bridge's internal plain-TCP MQTT listener serves only connections the bridge itself opened. */
class MqttWebSocketBridgeIT {
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        await(vertx.close());
    }

    @Test
    void internalListenerRefusesConnectionsNotMadeByTheBridge() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        MqttServer server = MqttServer.create(vertx, new MqttServerOptions().setHost("127.0.0.1").setPort(0));
        MqttWebSocketBridge bridge = new MqttWebSocketBridge(vertx, "127.0.0.1", 0);
        server.endpointHandler(bridge.guard((endpoint, chain) -> {
            handled.incrementAndGet();
            endpoint.accept(false);
        }));
        int port = await(server.listen()).actualPort();

        MqttClient direct = MqttClient.create(vertx, new MqttClientOptions().setClientId("someone")
                .setUsername("127.0.0.1/someone/?api-version=2020-09-30").setPassword("x"));
        ExecutionException e = assertThrows(ExecutionException.class, () -> await(direct.connect(port, "127.0.0.1")));
        MqttConnectionException refused = assertInstanceOf(MqttConnectionException.class, e.getCause());
        assertEquals(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, refused.code());
        assertEquals(0, handled.get(), "the device handler never saw the connection");
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
