package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.service.ProxyOptions;
import com.microsoft.azure.sdk.iot.service.messaging.AcknowledgementType;
import com.microsoft.azure.sdk.iot.service.messaging.DeliveryAcknowledgement;
import com.microsoft.azure.sdk.iot.service.messaging.IotHubServiceClientProtocol;
import com.microsoft.azure.sdk.iot.service.messaging.Message;
import com.microsoft.azure.sdk.iot.service.messaging.MessageFeedbackProcessorClient;
import com.microsoft.azure.sdk.iot.service.messaging.MessageFeedbackProcessorClientOptions;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClient;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClientOptions;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.c2d.C2dDelivery;
import dev.iotjobs.localhub.c2d.C2dSettings;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.HubLimits;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.tls.TrustStores;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.Proxy;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A service client over AMQP on WebSockets (port 443, here through the hub's CONNECT proxy) keeps its connection
 * for as long as it likes: the HTTPS listener's request-headers deadline (1 s here) is for HTTP requests, not for
 * a connection upgraded to a WebSocket. Two rounds of cloud-to-device messages with positive acknowledgement,
 * several deadlines apart, each get their feedback record on the same unmodified {@code MessagingClient} and
 * {@code MessageFeedbackProcessorClient} (the second round's were lost when the hub closed the upgraded
 * connection at the headers deadline).
 */
class ServiceWebSocketLifetimeIT {

    @Test
    void feedbackOverWebSocketsArrivesInEveryRound_longAfterTheHttpHeadersDeadline() throws Exception {
        try (LocalHub hub = LocalHub.start(HubConfig.builder()
                .dataDirectory(Files.createTempDirectory("local-iothub-ws-lifetime")).inMemory(true)
                .mqttPort(0).restPort(0).alwaysProxy(true).proxyPort(0)
                .limits(HubLimits.DEFAULTS.withHttpHeadersTimeout(Duration.ofSeconds(1)))
                .c2d(C2dSettings.DEFAULTS.withFeedbackInterval(Duration.ofMillis(200)))
                .build())) {
            ProxyOptions proxy = new ProxyOptions(new Proxy(Proxy.Type.HTTP,
                    new InetSocketAddress(WellKnownKeys.HOST_NAME, hub.proxyPort())));
            String deviceId = WellKnownKeys.DEFAULT_DEVICE_ID; // registered by every fresh hub
            BlockingQueue<String> feedback = new LinkedBlockingQueue<>();
            MessageFeedbackProcessorClient processor = new MessageFeedbackProcessorClient(hub.hubConnectionString(),
                    IotHubServiceClientProtocol.AMQPS_WS, batch -> {
                batch.getRecords().forEach(r -> feedback.add(r.getOriginalMessageId()));
                return AcknowledgementType.COMPLETE;
            }, MessageFeedbackProcessorClientOptions.builder().proxyOptions(proxy)
                    .sslContext(TrustStores.trusting(hub.trustStore())).build());
            MessagingClient messaging = new MessagingClient(hub.hubConnectionString(),
                    IotHubServiceClientProtocol.AMQPS_WS, MessagingClientOptions.builder().proxyOptions(proxy)
                    .sslContext(TrustStores.trusting(hub.trustStore())).build());
            processor.start();
            messaging.open();
            try {
                for (int round = 1; round <= 2; round++) {
                    // Idle for three headers deadlines: an upgraded connection must not be closed meanwhile.
                    Thread.sleep(3_000);
                    Message message = new Message("round " + round);
                    message.setMessageId("round-" + round);
                    message.setDeliveryAcknowledgement(DeliveryAcknowledgement.PositiveOnly);
                    messaging.send(deviceId, message);
                    // The device side: take the message and complete it (positive feedback).
                    C2dDelivery delivery = hub.cloudToDevice().receive(deviceId, Duration.ofMinutes(1));
                    assertNotNull(delivery, "round " + round + ": the message is queued");
                    hub.cloudToDevice().complete(deviceId, delivery.lockToken());
                    assertEquals("round-" + round, feedback.poll(60, TimeUnit.SECONDS),
                            "round " + round + ": the feedback record reaches the processor");
                }
            } finally {
                messaging.close();
                processor.stop();
            }
        }
    }
}
