package dev.iotjobs.localhub.fault;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.HubLimits;
import dev.iotjobs.localhub.config.WellKnownKeys;
import io.vertx.core.Vertx;
import io.vertx.proton.ProtonClient;
import io.vertx.proton.ProtonClientOptions;
import io.vertx.proton.ProtonConnection;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Not part of the build's tests (the name matches no include): the hub's live heap per AMQP device connection
 * holding what the Java device SDK attaches (the two $cbs links after a put-token, telemetry, C2D, and the twin
 * and methods pairs: eight links). {@code -Damqp.connections=N} (default 500). Run:
 * {@code mvn -pl local-hub test -Dtest=AmqpConnectionCostMeasurement -Dsurefire.failIfNoSpecifiedTests=false}
 */
class AmqpConnectionCostMeasurement {

    @Test
    void measure() throws Exception {
        int count = Integer.getInteger("amqp.connections", 500);
        Vertx client = Vertx.vertx();
        try (LocalHub hub = OwnHub.start(HubLimits.DEFAULTS)) {
            HubDevices devices = new HubDevices(hub);
            List<HubDevices.Registered> registered = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                registered.add(devices.register("cost"));
            }
            long before = HeapFloodMeasurement.liveHeapMb();
            List<ProtonConnection> open = new ArrayList<>();
            for (HubDevices.Registered d : registered) {
                open.add(connect(client, hub.amqpPort(), d));
            }
            long after = HeapFloodMeasurement.liveHeapMb();
            System.out.printf("AMQP device connections: %d; hub live heap %d MB before, %d MB after: %.1f KB each%n",
                    count, before, after, (after - before) * 1024.0 / count);
            for (ProtonConnection c : open) {
                client.runOnContext(v -> c.close());
            }
        } finally {
            client.close();
        }
    }

    private static ProtonConnection connect(Vertx vertx, int port, HubDevices.Registered d) throws Exception {
        CompletableFuture<ProtonConnection> ready = new CompletableFuture<>();
        String base = "/devices/" + d.id();
        vertx.runOnContext(v -> ProtonClient.create(vertx).connect(new ProtonClientOptions().setSsl(true).setTrustAll(true)
                .setHostnameVerificationAlgorithm(""), "127.0.0.1", port, ar -> {
            if (ar.failed()) {
                ready.completeExceptionally(ar.cause());
                return;
            }
            ProtonConnection c = ar.result();
            c.openHandler(o -> {
                var replies = c.createReceiver("$cbs");
                replies.handler((delivery, reply) -> {
                    // put-token accepted: attach the links the Java device SDK attaches
                    c.createSender(base + "/messages/events").open();
                    c.createReceiver(base + "/messages/devicebound").setPrefetch(10).open();
                    c.createSender(base + "/twin").open();
                    c.createReceiver(base + "/twin").setPrefetch(10).open();
                    c.createSender(base + "/methods/devicebound").open();
                    c.createReceiver(base + "/methods/devicebound").setPrefetch(10)
                            .openHandler(x -> ready.complete(c)).open();
                });
                replies.open();
                var requests = c.createSender("$cbs");
                requests.open();
                requests.send(RawAmqp.putToken(SasToken.create(WellKnownKeys.HOST_NAME + base, d.key(), null,
                        Instant.now().getEpochSecond() + 3600), WellKnownKeys.HOST_NAME + base));
            });
            c.open();
        }));
        return ready.get(30, TimeUnit.SECONDS);
    }
}
