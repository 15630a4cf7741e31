package dev.iotjobs.localhub;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.mqtt.MqttServer;
import io.vertx.mqtt.MqttServerOptions;
import io.vertx.proton.ProtonServer;
import io.vertx.proton.ProtonServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A stopping listener refuses new connections at once and keeps its open ones for the grace period, for each kind
 * of listener the hub has (Vert.x MQTT and vertx-proton reached through their TCP server).
 */
class ListenerShutdownTest {
    private static final Duration GRACE = Duration.ofSeconds(30);
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void closeVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    void mqttListener_refusesNewConnections_keepsOpenOnes() throws Exception {
        MqttServer server = await(MqttServer.create(vertx, new MqttServerOptions().setHost("127.0.0.1").setPort(0))
                .endpointHandler(endpoint -> endpoint.accept(false)).listen());
        assertStopsAcceptingFirst(server, MqttServer::actualPort);
    }

    @Test
    void amqpListener_refusesNewConnections_keepsOpenOnes() throws Exception {
        ProtonServer server = await(Future.<ProtonServer>future(promise -> ProtonServer.create(vertx,
                new ProtonServerOptions().setHost("127.0.0.1").setPort(0)).connectHandler(c -> { })
                .listen(0, "127.0.0.1", promise::handle)));
        assertStopsAcceptingFirst(server, ProtonServer::actualPort);
    }

    @Test
    void httpListener_refusesNewConnections() throws Exception {
        var server = await(vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(request -> request.response().end()).listen());
        int port = server.actualPort();
        Future<Void> stopped = ListenerShutdown.shutdown(server, GRACE);
        awaitRefused(port);
        await(stopped);
    }

    private <S> void assertStopsAcceptingFirst(S server, ToIntFunction<S> actualPort) throws Exception {
        int port = actualPort.applyAsInt(server);
        try (Socket open = new Socket("127.0.0.1", port)) {
            open.setSoTimeout(200);
            Thread.sleep(100); // accepted by the server
            ListenerShutdown.shutdown(server, GRACE);
            awaitRefused(port);
            // Still open: a read times out instead of ending (-1) or failing.
            assertThrows(SocketTimeoutException.class, () -> assertEquals(-2, open.getInputStream().read()));
        }
    }

    private static void awaitRefused(int port) throws InterruptedException {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            } catch (ConnectException refused) {
                return;
            } catch (IOException other) {
                // not yet: keep probing
            }
            if (System.nanoTime() > giveUp) {
                throw new AssertionError("port " + port + " still accepts connections after the listener stopped");
            }
            Thread.sleep(20);
        }
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
