package dev.iotjobs.localhub.bench;

import com.microsoft.azure.sdk.iot.service.ProxyOptions;
import com.microsoft.azure.sdk.iot.service.messaging.AcknowledgementType;
import com.microsoft.azure.sdk.iot.service.messaging.DeliveryAcknowledgement;
import com.microsoft.azure.sdk.iot.service.messaging.FeedbackRecord;
import com.microsoft.azure.sdk.iot.service.messaging.IotHubServiceClientProtocol;
import com.microsoft.azure.sdk.iot.service.messaging.Message;
import com.microsoft.azure.sdk.iot.service.messaging.MessageFeedbackProcessorClient;
import com.microsoft.azure.sdk.iot.service.messaging.MessageFeedbackProcessorClientOptions;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClient;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClientOptions;
import dev.iotjobs.fleet.FleetDevices;
import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.json.Json;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.PfxOptions;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import io.netty.handler.codec.mqtt.MqttQoS;

import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static dev.iotjobs.localhub.bench.BenchOutput.info;

/**
 * The {@code c2d} scenario (docs/benchmarks.md): N devices connected over MQTT (Vert.x's MQTT client, which PUBACKs
 * each message: the device completes it), M cloud-to-device messages each, sent by the unmodified service SDK's
 * {@code MessagingClient} (AMQP over WebSockets through the hub's CONNECT proxy, as every benchmark reaches its
 * hub on free ports) with positive acknowledgement, and the feedback received by its
 * {@code MessageFeedbackProcessorClient}. A round ends when every message's feedback has arrived; the first round
 * is the cold one, the BENCH line is the last ({@code -Dbench.c2d.rounds}, 2 by default, over the same connections
 * and clients). Latencies per message: send to the device's PUBLISH
 * ({@code p50ms}/{@code p99ms}) and send to its feedback record ({@code feedbackP50ms}/{@code feedbackP99ms}).
 * {@code limit}: {@link LimitC2d}, the same three hops with vertx-proton alone, measured after it.
 */
final class C2dBenchmark {
    private static final String SENT = "sentNanos";

    private C2dBenchmark() {
    }

    static void run(int devices, int perDevice) throws Exception {
        int total = devices * perDevice;
        int rounds = Math.max(1, Integer.getInteger("bench.c2d.rounds", 2));
        double[] rates = new double[rounds];
        long[][] toDevice = new long[1][];
        long[][] toFeedback = new long[1][];
        long heap;
        Vertx vertx = Vertx.vertx();
        try (BenchHub bench = new BenchHub()) {
            String run = "c" + UUID.randomUUID().toString().substring(0, 6);
            List<FleetSimulator.DeviceCredentials> fleet = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY)
                    .bulkCreate(run, devices, Json.object().put("bench", run));
            Map<String, Long> sentAt = new ConcurrentHashMap<>();
            ConcurrentLinkedQueue<Long> deviceMillis = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Long> feedbackMillis = new ConcurrentLinkedQueue<>();
            CountDownLatch[] feedbackLeft = new CountDownLatch[1];
            long t0 = System.nanoTime();
            List<MqttClient> clients = connect(vertx, bench, fleet, deviceMillis);
            info("connected %d MQTT devices in %.1f s", devices, (System.nanoTime() - t0) / 1e9);

            ProxyOptions proxy = new ProxyOptions(new Proxy(Proxy.Type.HTTP,
                    new InetSocketAddress(WellKnownKeys.HOST_NAME, bench.hub.proxyPort())));
            MessageFeedbackProcessorClient feedback = new MessageFeedbackProcessorClient(bench.hub.hubConnectionString(),
                    IotHubServiceClientProtocol.AMQPS_WS, batch -> {
                long now = System.nanoTime();
                for (FeedbackRecord r : batch.getRecords()) {
                    Long sent = sentAt.remove(r.getOriginalMessageId());
                    if (sent != null) {
                        feedbackMillis.add((now - sent) / 1_000_000);
                        feedbackLeft[0].countDown();
                    }
                }
                return AcknowledgementType.COMPLETE;
            }, MessageFeedbackProcessorClientOptions.builder().proxyOptions(proxy).build());
            feedback.start();
            MessagingClient messaging = new MessagingClient(bench.hub.hubConnectionString(),
                    IotHubServiceClientProtocol.AMQPS_WS, MessagingClientOptions.builder().proxyOptions(proxy).build());
            messaging.open();
            try {
                for (int round = 0; round < rounds; round++) {
                    deviceMillis.clear();
                    feedbackMillis.clear();
                    feedbackLeft[0] = new CountDownLatch(total);
                    ConcurrentLinkedQueue<String> failed = new ConcurrentLinkedQueue<>();
                    // The device queue holds 50 messages (IoT Hub's limit): M per device stays below it.
                    Semaphore inFlight = new Semaphore(256);
                    long start = System.nanoTime();
                    for (int m = 0; m < perDevice; m++) {
                        for (FleetSimulator.DeviceCredentials d : fleet) {
                            Message message = new Message(("{\"n\":" + m + "}").getBytes(StandardCharsets.UTF_8));
                            String id = UUID.randomUUID().toString();
                            message.setMessageId(id);
                            message.setDeliveryAcknowledgement(DeliveryAcknowledgement.PositiveOnly);
                            long now = System.nanoTime();
                            message.getProperties().put(SENT, Long.toString(now));
                            sentAt.put(id, now);
                            inFlight.acquire();
                            messaging.sendAsync(d.deviceId(), message, result -> {
                                inFlight.release();
                                if (!result.wasSentSuccessfully()) {
                                    failed.add(String.valueOf(result.getException()));
                                    sentAt.remove(id);
                                    feedbackLeft[0].countDown();
                                }
                            }, null);
                        }
                    }
                    if (!feedbackLeft[0].await(120, TimeUnit.SECONDS)) {
                        throw new IllegalStateException(feedbackLeft[0].getCount() + " of " + total
                                + " feedback records missing after 120 s; failed sends: " + failed.size() + ", messages the devices got: "
                                + deviceMillis.size());
                    }
                    if (!failed.isEmpty()) {
                        throw new IllegalStateException(failed.size() + " of " + total + " sends failed, e.g. " + failed.peek());
                    }
                    double seconds = (System.nanoTime() - start) / 1e9;
                    rates[round] = total / seconds;
                    info("%s round: %d messages to %d devices and their feedback in %.3f s (%.0f messages/s)",
                            round == 0 ? "cold" : "measured", total, devices, seconds, rates[round]);
                }
                toDevice[0] = sorted(deviceMillis);
                toFeedback[0] = sorted(feedbackMillis);
                heap = BenchHub.heapAfterGcMb();
            } finally {
                messaging.close();
                feedback.stop();
                for (MqttClient c : clients) {
                    c.disconnect();
                }
            }
        } finally {
            vertx.close();
        }
        double limit = LimitC2d.measure(devices, perDevice);
        double rate = rates[rounds - 1];
        System.out.println(String.format(Locale.ROOT, "BENCH c2d messages=%d devices=%d seconds=%.3f rate=%.0f heapMB=%d"
                        + " p50ms=%d p99ms=%d feedbackP50ms=%d feedbackP99ms=%d limit=%.0f ratio=%.3f coldRate=%.0f",
                total, devices, total / rate, rate, heap, BenchOutput.percentile(toDevice[0], 50),
                BenchOutput.percentile(toDevice[0], 99), BenchOutput.percentile(toFeedback[0], 50),
                BenchOutput.percentile(toFeedback[0], 99), limit, rate / limit, rates[0]));
    }

    /** Connects every device (persistent session) and subscribes it to its cloud-to-device topic. */
    private static List<MqttClient> connect(Vertx vertx, BenchHub bench, List<FleetSimulator.DeviceCredentials> fleet,
                                            ConcurrentLinkedQueue<Long> deviceMillis) throws Exception {
        List<MqttClient> clients = new ArrayList<>();
        Semaphore connecting = new Semaphore(64);
        List<Future<?>> all = new ArrayList<>();
        for (FleetSimulator.DeviceCredentials d : fleet) {
            MqttClientOptions o = new MqttClientOptions().setClientId(d.deviceId())
                    .setUsername(WellKnownKeys.HOST_NAME + "/" + d.deviceId() + "/?api-version=2021-04-12")
                    .setPassword(SasToken.create(WellKnownKeys.HOST_NAME + "/devices/" + d.deviceId(), d.primaryKey(),
                            null, Instant.now().getEpochSecond() + 24 * 3600))
                    .setCleanSession(false).setSsl(true).setHostnameVerificationAlgorithm("HTTPS")
                    .setTrustOptions(new PfxOptions().setPath(bench.hub.trustStore().toString())
                            .setPassword(WellKnownKeys.TRUST_STORE_PASSWORD))
                    .setMaxMessageSize(256 * 1024).setKeepAliveInterval(230);
            MqttClient client = MqttClient.create(vertx, o);
            // Vert.x's client PUBACKs a QoS 1 PUBLISH after this handler: the device completes the message.
            client.publishHandler(p -> {
                long now = System.nanoTime();
                String topic = p.topicName();
                int at = topic.indexOf(SENT + "=");
                if (at >= 0) {
                    int end = topic.indexOf('&', at);
                    String value = URLDecoder.decode(topic.substring(at + SENT.length() + 1,
                            end < 0 ? topic.length() : end), StandardCharsets.UTF_8);
                    deviceMillis.add((now - Long.parseLong(value)) / 1_000_000);
                }
            });
            clients.add(client);
            connecting.acquire();
            all.add(client.connect(bench.hub.mqttPort(), WellKnownKeys.HOST_NAME)
                    .compose(ack -> client.subscribe("devices/" + d.deviceId() + "/messages/devicebound/#",
                            MqttQoS.AT_LEAST_ONCE.value()))
                    .onComplete(ar -> connecting.release()));
        }
        Future.all(all).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        return clients;
    }

    private static long[] sorted(ConcurrentLinkedQueue<Long> values) {
        long[] a = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return a.length == 0 ? new long[]{0} : a;
    }
}
