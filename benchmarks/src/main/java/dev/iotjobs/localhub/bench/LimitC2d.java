package dev.iotjobs.localhub.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.proton.ProtonClient;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonHelper;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import io.vertx.proton.ProtonServer;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.message.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static dev.iotjobs.localhub.bench.BenchOutput.info;

/**
 * The c2d scenario's limit: the same three hops with vertx-proton alone, no hub. A "service" connection sends
 * N x M messages (256 unsettled at most, as the scenario) to a bare vertx-proton server, which passes each to its
 * device's connection (N connections, one receiver each); when the device accepts it, the server sends a feedback
 * message back to the service's feedback receiver. Plain TCP on loopback (the hub's path adds TLS, a WebSocket and
 * MQTT for the device), in one JVM. Two rounds; the second is the limit (messages per second, first send to last
 * feedback).
 */
final class LimitC2d {
    private LimitC2d() {
    }

    static double measure(int devices, int perDevice) throws Exception {
        int total = devices * perDevice;
        Vertx serverVertx = Vertx.vertx();
        Vertx clientVertx = Vertx.vertx();
        try {
            Map<String, ProtonSender> deviceLinks = new ConcurrentHashMap<>();
            ProtonSender[] feedbackLink = new ProtonSender[1];
            CountDownLatch devicesAttached = new CountDownLatch(devices + 1);
            ProtonServer server = ProtonServer.create(serverVertx).connectHandler(c -> {
                c.openHandler(o -> c.open());
                c.sessionOpenHandler(s -> s.open());
                c.senderOpenHandler(sender -> {
                    String address = ((Source) sender.getRemoteSource()).getAddress();
                    sender.setSource(sender.getRemoteSource());
                    sender.open();
                    if (address.equals("feedback")) {
                        feedbackLink[0] = sender;
                    } else {
                        deviceLinks.put(address, sender);
                    }
                    devicesAttached.countDown();
                });
                c.receiverOpenHandler(receiver -> {
                    receiver.setTarget(receiver.getRemoteTarget());
                    receiver.handler((delivery, message) -> {
                        ProtonSender device = deviceLinks.get(message.getAddress());
                        ProtonHelper.accepted(delivery, true);
                        Object id = message.getMessageId();
                        device.send(message, settled -> {
                            if (settled.getRemoteState() instanceof Accepted) {
                                Message record = Message.Factory.create();
                                record.setBody(new AmqpValue(String.valueOf(id)));
                                feedbackLink[0].send(record);
                            }
                        });
                    }).open();
                });
            });
            Promise<ProtonServer> listening = Promise.promise();
            server.listen(0, "127.0.0.1", ar -> {
                if (ar.succeeded()) {
                    listening.complete(ar.result());
                } else {
                    listening.fail(ar.cause());
                }
            });
            int port = await(listening.future()).actualPort();

            // The devices: one connection each, accepting what arrives.
            List<ProtonConnection> connections = new ArrayList<>();
            for (int i = 0; i < devices; i++) {
                ProtonConnection c = await(connect(clientVertx, port));
                connections.add(c);
                String address = "d" + i;
                clientVertx.runOnContext(v -> {
                    ProtonReceiver r = c.createReceiver(address);
                    r.handler((delivery, message) -> { }).open(); // auto-accept
                });
            }
            // The service: a sender of messages and a receiver of feedback.
            ProtonConnection service = await(connect(clientVertx, port));
            Map<String, Long> sentAt = new ConcurrentHashMap<>();
            CountDownLatch[] left = new CountDownLatch[1];
            ProtonSender[] sender = new ProtonSender[1];
            clientVertx.runOnContext(v -> {
                service.createReceiver("feedback").handler((delivery, message) -> {
                    sentAt.remove((String) ((AmqpValue) message.getBody()).getValue());
                    left[0].countDown();
                }).setPrefetch(1000).open();
                sender[0] = service.createSender(null);
                sender[0].open();
            });
            if (!devicesAttached.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the bare AMQP pair did not attach its links");
            }
            double rate = 0;
            for (int round = 0; round < 2; round++) {
                left[0] = new CountDownLatch(total);
                Semaphore inFlight = new Semaphore(256);
                long start = System.nanoTime();
                for (int m = 0; m < perDevice; m++) {
                    for (int i = 0; i < devices; i++) {
                        String id = round + "-" + m + "-" + i;
                        String to = "d" + i;
                        sentAt.put(id, System.nanoTime());
                        inFlight.acquire();
                        clientVertx.runOnContext(v -> {
                            Message message = Message.Factory.create();
                            message.setMessageId(id);
                            message.setAddress(to);
                            message.setBody(new AmqpValue("{\"n\":1}"));
                            sender[0].send(message, d -> inFlight.release());
                        });
                    }
                }
                if (!left[0].await(300, TimeUnit.SECONDS)) {
                    throw new IllegalStateException(left[0].getCount() + " feedback messages missing (bare AMQP pair)");
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                rate = total / seconds;
                info("limit-c2d round %d: %d messages and their feedback in %.3f s (%.0f messages/s), vertx-proton alone",
                        round + 1, total, seconds, rate);
            }
            connections.forEach(c -> clientVertx.runOnContext(v -> c.close()));
            return rate;
        } finally {
            clientVertx.close();
            serverVertx.close();
        }
    }

    private static Future<ProtonConnection> connect(Vertx vertx, int port) {
        Promise<ProtonConnection> opened = Promise.promise();
        vertx.runOnContext(v -> ProtonClient.create(vertx).connect("127.0.0.1", port, ar -> {
            if (ar.failed()) {
                opened.fail(ar.cause());
                return;
            }
            ProtonConnection c = ar.result();
            c.openHandler(o -> opened.complete(c)).open();
        }));
        return opened.future();
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}
