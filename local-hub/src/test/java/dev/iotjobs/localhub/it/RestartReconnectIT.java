package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.transport.IotHubConnectionStatus;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A device connected while the hub stops and starts again (a restart, or Ctrl-C and a new start) reconnects by
 * itself, however often it happens. The device SDK gives up for good when a connection is accepted and then
 * closed during its TLS handshake ("Remote host terminated the handshake" is not retryable for it), so a stopping
 * hub must stop accepting before it closes the connections it has.
 */
@ExtendWith(LocalHubExtension.class)
class RestartReconnectIT {
    private static final int RESTARTS = 8;
    private static final long RECONNECT_SECONDS = 60;

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "MQTT_WS", "AMQPS", "AMQPS_WS"})
    void aDevice_reconnectsAfterEachOfSeveralRestarts(IotHubClientProtocol protocol, LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("restart-" + protocol.name().toLowerCase()));
        DeviceClient client = new DeviceClient(TestDevices.connectionString(device), protocol,
                TestDevices.options(hub, protocol).build());
        AtomicInteger connections = new AtomicInteger();
        AtomicReference<String> gaveUp = new AtomicReference<>();
        client.setConnectionStatusChangeCallback(context -> {
            if (context.getNewStatus() == IotHubConnectionStatus.CONNECTED) {
                connections.incrementAndGet();
            } else if (context.getNewStatus() == IotHubConnectionStatus.DISCONNECTED) {
                StringBuilder causes = new StringBuilder(String.valueOf(context.getNewStatusReason()));
                for (Throwable t = context.getCause(); t != null; t = t.getCause() == t ? null : t.getCause()) {
                    causes.append(" <- ").append(t);
                }
                gaveUp.set(causes.toString());
            }
        }, null);
        client.open(true);
        try {
            for (int restart = 1; restart <= RESTARTS; restart++) {
                hub.restart();
                long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(RECONNECT_SECONDS);
                while (connections.get() < restart + 1) { // the first connection, then one after each restart
                    assertNull(gaveUp.get(), "after restart " + restart + " the device gave up reconnecting");
                    assertTrue(System.nanoTime() < giveUp, "not reconnected after restart " + restart);
                    Thread.sleep(20);
                }
            }
        } finally {
            client.close();
        }
    }
}
