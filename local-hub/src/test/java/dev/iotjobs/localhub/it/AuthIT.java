package dev.iotjobs.localhub.it;

import com.azure.core.credential.AzureSasCredential;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubUnauthorizedException;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PfxOptions;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.MqttConnectionException;
import io.vertx.mqtt.messages.MqttSubAckMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Service SAS (policies, keys, expiry) and device authentication and authorisation over MQTT. Raw MQTT
 * cases use the Vert.x MQTT client over TLS that trusts only the hub's CA (no verification bypass).
 */
@ExtendWith(LocalHubExtension.class)
class AuthIT {
    private LocalHub hub;
    private Vertx vertx;

    @BeforeEach
    void setUp(LocalHub hub) {
        this.hub = hub;
        vertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static String randomKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    private static String ownerToken(long expiry) {
        return SasToken.create(WellKnownKeys.HOST_NAME, WellKnownKeys.IOTHUBOWNER_KEY, "iothubowner", expiry);
    }

    // ---- service side -------------------------------------------------------------------------------

    @Test
    void getDevice_withWrongPolicyKeyIs401002() {
        RegistryClient wrong = new RegistryClient("HostName=127.0.0.1;SharedAccessKeyName=iothubowner;SharedAccessKey="
                + randomKey());
        IotHubException e = assertThrows(IotHubUnauthorizedException.class, () -> wrong.getDevice(WellKnownKeys.DEFAULT_DEVICE_ID));
        assertEquals(401002, e.getErrorCode());
    }

    @Test
    void getDevice_withUnknownPolicyNameIs401002() {
        RegistryClient wrong = new RegistryClient("HostName=127.0.0.1;SharedAccessKeyName=nosuchpolicy;SharedAccessKey="
                + WellKnownKeys.IOTHUBOWNER_KEY);
        IotHubException e = assertThrows(IotHubUnauthorizedException.class, () -> wrong.getDevice(WellKnownKeys.DEFAULT_DEVICE_ID));
        assertEquals(401002, e.getErrorCode());
    }

    @Test
    void getDevice_withValidSasCredentialSucceedsAndExpiredOneIs401002() throws Exception {
        long now = Instant.now().getEpochSecond();
        RegistryClient valid = new RegistryClient(WellKnownKeys.HOST_NAME, new AzureSasCredential(ownerToken(now + 600)));
        assertEquals(WellKnownKeys.DEFAULT_DEVICE_ID, valid.getDevice(WellKnownKeys.DEFAULT_DEVICE_ID).getDeviceId());

        RegistryClient expired = new RegistryClient(WellKnownKeys.HOST_NAME, new AzureSasCredential(ownerToken(now - 60)));
        IotHubException e = assertThrows(IotHubUnauthorizedException.class, () -> expired.getDevice(WellKnownKeys.DEFAULT_DEVICE_ID));
        assertEquals(401002, e.getErrorCode());
    }

    @Test
    void invoke_withExpiredSasCredentialIs401002() {
        long past = Instant.now().getEpochSecond() - 1;
        DirectMethodsClient expired = new DirectMethodsClient(WellKnownKeys.HOST_NAME, new AzureSasCredential(ownerToken(past)));
        IotHubException e = assertThrows(IotHubUnauthorizedException.class, () -> expired.invoke(
                WellKnownKeys.DEFAULT_DEVICE_ID, "m", DirectMethodRequestOptions.builder().build()));
        assertEquals(401002, e.getErrorCode());
    }

    @Test
    void addDevice_withRegistryReadPolicyIs401002() throws Exception {
        RegistryClient readOnly = new RegistryClient("HostName=127.0.0.1;SharedAccessKeyName=registryRead;SharedAccessKey="
                + WellKnownKeys.REGISTRY_READ_KEY);
        assertNotNull(readOnly.getDevice(WellKnownKeys.DEFAULT_DEVICE_ID), "registryRead may read");
        String id = TestDevices.uniqueId("auth-ro");
        IotHubException e = assertThrows(IotHubUnauthorizedException.class, () -> readOnly.addDevice(new Device(id)));
        assertEquals(401002, e.getErrorCode());
        assertThrows(IotHubException.class, () -> new RegistryClient(hub.hubConnectionString()).getDevice(id),
                "the refused device must not exist");
    }

    @Test
    void twinPatch_withRegistryReadPolicyIs401002() throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("auth-twin"));
        TwinClient readOnly = new TwinClient("HostName=127.0.0.1;SharedAccessKeyName=registryRead;SharedAccessKey="
                + WellKnownKeys.REGISTRY_READ_KEY);
        Twin twin = readOnly.get(device.getDeviceId());
        twin.getDesiredProperties().put("x", 1);
        IotHubException e = assertThrows(IotHubUnauthorizedException.class, () -> readOnly.patch(twin));
        assertEquals(401002, e.getErrorCode());
    }

    // ---- device side --------------------------------------------------------------------------------

    @Test
    void open_withWrongDeviceKeyIsUnauthorized() throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("auth-devkey"));
        TestDevices.assertConnectRefused("HostName=127.0.0.1;DeviceId=" + device.getDeviceId()
                + ";SharedAccessKey=" + randomKey());
    }

    @Test
    void open_unregisteredDeviceIsUnauthorized() throws Exception {
        TestDevices.assertConnectRefused("HostName=127.0.0.1;DeviceId=" + TestDevices.uniqueId("auth-ghost")
                + ";SharedAccessKey=" + randomKey());
    }

    @Test
    void mqttConnect_withAnotherDevicesTokenIsRefused() throws Exception {
        Device a = TestDevices.register(hub, TestDevices.uniqueId("auth-a"));
        Device b = TestDevices.register(hub, TestDevices.uniqueId("auth-b"));
        // A valid token, but for device B, presented by client id A.
        MqttClient client = MqttClient.create(vertx, options(a.getDeviceId(), token(b)));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> await(client.connect(hub.mqttPort(), WellKnownKeys.HOST_NAME)));
        MqttConnectionException refused = assertInstanceOf(MqttConnectionException.class, e.getCause());
        assertEquals(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, refused.code());
    }

    @Test
    void mqttSubscribe_toAnotherDevicesTopicIsRefused() throws Exception {
        Device a = TestDevices.register(hub, TestDevices.uniqueId("auth-a"));
        Device b = TestDevices.register(hub, TestDevices.uniqueId("auth-b"));
        MqttClient client = connected(a);
        try {
            CompletableFuture<MqttSubAckMessage> suback = new CompletableFuture<>();
            client.subscribeCompletionHandler(suback::complete);
            await(client.subscribe("devices/" + b.getDeviceId() + "/messages/devicebound/#", 1));
            assertEquals(List.of(0x80), suback.get(5, TimeUnit.SECONDS).grantedQoSLevels());

            CompletableFuture<MqttSubAckMessage> own = new CompletableFuture<>();
            client.subscribeCompletionHandler(own::complete);
            await(client.subscribe("devices/" + a.getDeviceId() + "/messages/devicebound/#", 1));
            assertEquals(List.of(1), own.get(5, TimeUnit.SECONDS).grantedQoSLevels(), "its own topic is allowed");
            assertTrue(client.isConnected());
        } finally {
            disconnectQuietly(client);
        }
    }

    @Test
    void mqttPublish_toAnotherDevicesTopicClosesTheConnection() throws Exception {
        Device a = TestDevices.register(hub, TestDevices.uniqueId("auth-a"));
        Device b = TestDevices.register(hub, TestDevices.uniqueId("auth-b"));
        MqttClient client = connected(a);
        CompletableFuture<Void> closed = new CompletableFuture<>();
        client.closeHandler(v -> closed.complete(null));
        // Own telemetry is accepted first (PUBACK), so the close below is about the foreign topic only.
        await(client.publish("devices/" + a.getDeviceId() + "/messages/events/", Buffer.buffer("ok"),
                MqttQoS.AT_LEAST_ONCE, false, false));
        assertFalse(closed.isDone());
        client.publish("devices/" + b.getDeviceId() + "/messages/events/", Buffer.buffer("spoof"),
                MqttQoS.AT_LEAST_ONCE, false, false);
        closed.get(5, TimeUnit.SECONDS);
        assertFalse(client.isConnected());
    }

    @Test
    void mqttConnect_sameDeviceTwiceDropsTheOlderConnection() throws Exception {
        Device a = TestDevices.register(hub, TestDevices.uniqueId("auth-twice"));
        MqttClient first = connected(a);
        CompletableFuture<Void> firstClosed = new CompletableFuture<>();
        first.closeHandler(v -> firstClosed.complete(null));
        MqttClient second = connected(a);
        try {
            firstClosed.get(5, TimeUnit.SECONDS);
            assertFalse(first.isConnected());
            Thread.sleep(200);
            assertTrue(second.isConnected(), "the newer connection must survive");
            assertEquals("CONNECTED", new TwinClient(hub.hubConnectionString()).get(a.getDeviceId()).getConnectionState());
        } finally {
            disconnectQuietly(second);
        }
    }

    private MqttClient connected(Device device) throws Exception {
        MqttClient client = MqttClient.create(vertx, options(device.getDeviceId(), token(device)));
        await(client.connect(hub.mqttPort(), WellKnownKeys.HOST_NAME));
        return client;
    }

    private static String token(Device device) {
        return SasToken.create(WellKnownKeys.HOST_NAME + "/devices/" + device.getDeviceId(), device.getPrimaryKey(),
                null, Instant.now().getEpochSecond() + 600);
    }

    private MqttClientOptions options(String clientId, String password) {
        MqttClientOptions o = new MqttClientOptions();
        o.setClientId(clientId);
        o.setUsername(WellKnownKeys.HOST_NAME + "/" + clientId + "/?api-version=2020-09-30");
        o.setPassword(password);
        o.setCleanSession(false);
        o.setSsl(true);
        o.setHostnameVerificationAlgorithm("HTTPS");
        o.setTrustOptions(new PfxOptions().setPath(hub.trustStore().toString())
                .setPassword(WellKnownKeys.TRUST_STORE_PASSWORD));
        return o;
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static void disconnectQuietly(MqttClient client) {
        if (client.isConnected()) {
            try {
                await(client.disconnect());
            } catch (Exception ignored) {
                // already gone
            }
        }
    }
}
