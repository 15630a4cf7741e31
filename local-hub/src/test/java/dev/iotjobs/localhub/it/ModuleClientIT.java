package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.device.ModuleClient;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubNotFoundException;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.query.QueryClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.DeviceStatus;
import com.microsoft.azure.sdk.iot.service.registry.Module;
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
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.MqttSubAckMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Module clients over MQTT: the unmodified {@link ModuleClient} with a module SAS connection string (twins,
 * desired notifications, direct methods, telemetry), and raw Vert.x MQTT clients for what the SDK never does
 * (a module touching its device's or a sibling's topics, a second connection, a session resumed without
 * subscribing again). TLS is verified against the hub's CA in both.
 */
@ExtendWith(LocalHubExtension.class)
class ModuleClientIT {
    private LocalHub hub;
    private RegistryClient registry;
    private TwinClient twins;
    private DirectMethodsClient methods;
    private Vertx vertx;

    @BeforeEach
    void setUp(LocalHub hub) {
        this.hub = hub;
        registry = new RegistryClient(hub.hubConnectionString());
        twins = new TwinClient(hub.hubConnectionString());
        methods = new DirectMethodsClient(hub.hubConnectionString());
        vertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private String newDevice(String prefix) throws Exception {
        return TestDevices.register(hub, TestDevices.uniqueId(prefix)).getDeviceId();
    }

    private Module newModule(String deviceId, String moduleId) throws Exception {
        return registry.addModule(new Module(deviceId, moduleId));
    }

    private ModuleClient openModuleClient(String deviceId, String moduleId) throws Exception {
        ModuleClient client = new ModuleClient(hub.moduleConnectionString(deviceId, moduleId), IotHubClientProtocol.MQTT);
        client.open(false);
        return client;
    }

    // ---- the unmodified ModuleClient -----------------------------------------------------------------

    @Test
    void moduleClient_connectsWithSas_readsItsTwinAndReportsToItsOwnTwinOnly() throws Exception {
        String deviceId = newDevice("modc-twin");
        newModule(deviceId, "m");
        Twin patch = new Twin(deviceId, "m");
        patch.getDesiredProperties().put("rate", 7);
        twins.patch(patch);

        ModuleClient client = openModuleClient(deviceId, "m");
        try {
            assertEquals("CONNECTED", registry.getModule(deviceId, "m").getConnectionState().toString().toUpperCase());
            assertEquals("DISCONNECTED", registry.getDevice(deviceId).getConnectionState().toString().toUpperCase(),
                    "a module's connection is not its device's");
            client.subscribeToDesiredProperties((t, ctx) -> { }, null); // the SDK's precondition for getTwin
            var twin = getTwin(client);
            assertEquals(7, ((Number) twin.getDesiredProperties().get("rate")).intValue());
            assertEquals(2, twin.getDesiredProperties().getVersion());

            TwinCollection reported = new TwinCollection();
            reported.put("state", "running");
            assertEquals(2, updateReported(client, reported, deviceId, "m"));
            assertEquals("running", twins.get(deviceId, "m").getReportedProperties().get("state"));
            assertTrue(twins.get(deviceId).getReportedProperties().isEmpty(), "the device twin is untouched");
            assertEquals(1, ModuleApiIT.count(new QueryClient(hub.hubConnectionString()), "SELECT COUNT() AS n FROM "
                    + "devices.modules WHERE deviceId = '" + deviceId + "' AND properties.reported.state = 'running'"));
            assertEquals(0, ModuleApiIT.count(new QueryClient(hub.hubConnectionString()), "SELECT COUNT() AS n FROM "
                    + "devices WHERE deviceId = '" + deviceId + "' AND properties.reported.state = 'running'"));

            client.sendEvent(new Message("hello from a module")); // PUBACKed on the module's own telemetry topic
        } finally {
            client.close();
        }
    }

    @Test
    void moduleClient_getsDesiredPatchesOfItsOwnTwinOnly() throws Exception {
        String deviceId = newDevice("modc-desired");
        newModule(deviceId, "m1");
        newModule(deviceId, "m2");
        ModuleClient client = openModuleClient(deviceId, "m1");
        BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> patches = new LinkedBlockingQueue<>();
        try {
            client.subscribeToDesiredProperties((twin, ctx) -> patches.add(twin), null);
            Twin sibling = new Twin(deviceId, "m2");
            sibling.getDesiredProperties().put("who", "m2");
            twins.patch(sibling);
            Twin device = new Twin(deviceId);
            device.getDesiredProperties().put("who", "device");
            twins.patch(device);
            Twin own = new Twin(deviceId, "m1");
            own.getDesiredProperties().put("who", "m1");
            twins.patch(own);

            var received = patches.poll(10, TimeUnit.SECONDS);
            assertNotNull(received, "desired patch not delivered");
            assertEquals("m1", received.getDesiredProperties().get("who"), "the first patch delivered is its own");
            assertEquals(2, received.getDesiredProperties().getVersion());
            assertNull(patches.poll(500, TimeUnit.MILLISECONDS), "no other twin's patch arrives");
        } finally {
            client.close();
        }
    }

    @Test
    void moduleMethod_reachesTheModule_notItsDeviceOrSibling() throws Exception {
        String deviceId = newDevice("modc-dm");
        newModule(deviceId, "m1");
        newModule(deviceId, "m2");
        ModuleClient client = openModuleClient(deviceId, "m1");
        try {
            client.subscribeToMethods((name, payload, ctx) ->
                    new com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse(201,
                            Map.of("echo", name + ":" + payload.getPayloadAsJsonString())), null);
            DirectMethodResponse response = methods.invoke(deviceId, "m1", "ping",
                    DirectMethodRequestOptions.builder().payload(Map.of("a", 1)).methodResponseTimeoutSeconds(10).build());
            assertEquals(201, response.getStatus());
            assertEquals("{\"echo\":\"ping:{\\\"a\\\":1}\"}", response.getPayloadAsJsonString());

            DirectMethodRequestOptions noWait = DirectMethodRequestOptions.builder().methodConnectTimeoutSeconds(0).build();
            assertEquals(404103, assertThrows(IotHubNotFoundException.class,
                    () -> methods.invoke(deviceId, "ping", noWait)).getErrorCode(), "the device is not connected");
            assertEquals(404103, assertThrows(IotHubNotFoundException.class,
                    () -> methods.invoke(deviceId, "m2", "ping", noWait)).getErrorCode(), "the sibling is not connected");
        } finally {
            client.close();
        }
    }

    @Test
    void moduleMethod_waitsForTheConnectTimeout_thenReachesTheModule() throws Exception {
        String deviceId = newDevice("modc-dm-wait");
        newModule(deviceId, "m");
        CompletableFuture<DirectMethodResponse> call = CompletableFuture.supplyAsync(() -> {
            try {
                return methods.invoke(deviceId, "m", "late", DirectMethodRequestOptions.builder()
                        .methodConnectTimeoutSeconds(30).methodResponseTimeoutSeconds(10).build());
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        ModuleClient client = openModuleClient(deviceId, "m");
        try {
            client.subscribeToMethods((name, payload, ctx) ->
                    new com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse(200, name), null);
            assertEquals(200, call.get(30, TimeUnit.SECONDS).getStatus());
        } finally {
            client.close();
        }
    }

    @Test
    void moduleClient_overWebSockets_reportsAndAnswersMethods() throws Exception {
        String deviceId = newDevice("modc-ws");
        newModule(deviceId, "m");
        // Through the hub's CONNECT proxy when it could not bind 443 (a non-root user), as TestDevices does for devices.
        ModuleClient client = new ModuleClient(hub.moduleConnectionString(deviceId, "m"), IotHubClientProtocol.MQTT_WS,
                TestDevices.options(hub, IotHubClientProtocol.MQTT_WS).build());
        client.open(false);
        try {
            client.subscribeToMethods((name, payload, ctx) ->
                    new com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse(200, "ws:" + name), null);
            TwinCollection reported = new TwinCollection();
            reported.put("transport", "MQTT_WS");
            client.subscribeToDesiredProperties((t, ctx) -> { }, null);
            assertEquals(2, updateReported(client, reported, deviceId, "m"));
            assertEquals("MQTT_WS", twins.get(deviceId, "m").getReportedProperties().get("transport"));
            DirectMethodResponse response = methods.invoke(deviceId, "m", "ping",
                    DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).build());
            assertEquals(200, response.getStatus());
            assertEquals("\"ws:ping\"", response.getPayloadAsJsonString());
        } finally {
            client.close();
        }
    }

    @Test
    void moduleClient_withAWrongKeyAnUnknownModuleOrADisabledDeviceIsRefused() throws Exception {
        String deviceId = newDevice("modc-refused");
        Module module = newModule(deviceId, "m");
        Device device = registry.getDevice(deviceId);
        String base = "HostName=127.0.0.1;DeviceId=" + deviceId + ";ModuleId=";
        assertModuleConnectRefused(base + "m;SharedAccessKey=" + device.getPrimaryKey()); // the device's key
        assertModuleConnectRefused(base + "ghost;SharedAccessKey=" + module.getPrimaryKey());

        device.setStatus(DeviceStatus.Disabled);
        registry.updateDevice(device);
        assertModuleConnectRefused(base + "m;SharedAccessKey=" + module.getPrimaryKey());
    }

    private static void assertModuleConnectRefused(String connectionString) {
        ModuleClient client = new ModuleClient(connectionString, IotHubClientProtocol.MQTT);
        try {
            IotHubClientException e = assertThrows(IotHubClientException.class, () -> client.open(false));
            assertEquals(IotHubStatusCode.UNAUTHORIZED, e.getStatusCode());
        } finally {
            client.close();
        }
    }

    // ---- raw MQTT: identities, ACLs, sessions --------------------------------------------------------

    @Test
    void tokensAreForOneIdentity_aModuleTokenIsNotItsDevicesNorTheOtherWayRound() throws Exception {
        String deviceId = newDevice("modc-token");
        Module module = newModule(deviceId, "m");
        Device device = registry.getDevice(deviceId);
        String moduleToken = token("devices/" + deviceId + "/modules/m", module.getPrimaryKey());
        String deviceToken = token("devices/" + deviceId, device.getPrimaryKey());
        assertRefused(deviceId, moduleToken);
        assertRefused(deviceId + "/m", deviceToken);
        assertRefused(deviceId + "/m", token("devices/" + deviceId + "/modules/other", module.getPrimaryKey()));
        assertRefused(deviceId + "/m", SasToken.create("hub.example.com/devices/" + deviceId + "/modules/m",
                module.getPrimaryKey(), null, Instant.now().getEpochSecond() + 600)); // another hub's token
        MqttClient ok = rawConnect(deviceId + "/m", moduleToken);
        disconnectQuietly(ok);
    }

    @Test
    void aModuleMayNotSubscribeToItsDevicesOrASiblingsTopics() throws Exception {
        String deviceId = newDevice("modc-acl");
        Module module = newModule(deviceId, "m1");
        newModule(deviceId, "m2");
        MqttClient client = rawModule(deviceId, "m1", module);
        try {
            assertEquals(List.of(0x80), subscribe(client, "devices/" + deviceId + "/messages/devicebound/#"));
            assertEquals(List.of(0x80), subscribe(client, "devices/" + deviceId + "/modules/m2/messages/devicebound/#"));
            assertEquals(List.of(0x80), subscribe(client, "devices/" + deviceId + "/modules/m2/inputs/#"));
            assertEquals(List.of(1), subscribe(client, "devices/" + deviceId + "/modules/m1/messages/devicebound/#"));
            assertEquals(List.of(1), subscribe(client, "devices/" + deviceId + "/modules/m1/inputs/#"));
            assertEquals(List.of(1), subscribe(client, "$iothub/methods/POST/#"));
            assertTrue(client.isConnected());
        } finally {
            disconnectQuietly(client);
        }
    }

    @Test
    void aModulePublishingAsItsDeviceIsDisconnected() throws Exception {
        String deviceId = newDevice("modc-spoof");
        Module module = newModule(deviceId, "m");
        MqttClient client = rawModule(deviceId, "m", module);
        CompletableFuture<Void> closed = new CompletableFuture<>();
        client.closeHandler(v -> closed.complete(null));
        await(client.publish("devices/" + deviceId + "/modules/m/messages/events/", Buffer.buffer("ok"),
                MqttQoS.AT_LEAST_ONCE, false, false));
        assertFalse(closed.isDone(), "its own telemetry topic is accepted");
        client.publish("devices/" + deviceId + "/messages/events/", Buffer.buffer("spoof"), MqttQoS.AT_LEAST_ONCE, false, false);
        closed.get(5, TimeUnit.SECONDS);
        assertFalse(client.isConnected());
    }

    @Test
    void sameModuleConnectingTwiceDropsTheOlderConnection_theDeviceStaysConnected() throws Exception {
        String deviceId = newDevice("modc-twice");
        Module module = newModule(deviceId, "m");
        Device device = registry.getDevice(deviceId);
        MqttClient deviceClient = rawConnect(deviceId, token("devices/" + deviceId, device.getPrimaryKey()));
        CompletableFuture<Void> deviceClosed = new CompletableFuture<>();
        deviceClient.closeHandler(v -> deviceClosed.complete(null));
        MqttClient first = rawModule(deviceId, "m", module);
        CompletableFuture<Void> firstClosed = new CompletableFuture<>();
        first.closeHandler(v -> firstClosed.complete(null));
        MqttClient second = rawModule(deviceId, "m", module);
        try {
            firstClosed.get(5, TimeUnit.SECONDS);
            Thread.sleep(200);
            assertTrue(second.isConnected(), "the newer module connection must survive");
            assertFalse(deviceClosed.isDone(), "the device's own connection is another identity");
            assertEquals("CONNECTED", registry.getModule(deviceId, "m").getConnectionState().toString().toUpperCase());
        } finally {
            disconnectQuietly(second);
            disconnectQuietly(deviceClient);
        }
    }

    @Test
    void aModulesMethodSubscriptionSurvivesAReconnectWithoutSubscribingAgain() throws Exception {
        String deviceId = newDevice("modc-session");
        Module module = newModule(deviceId, "m");
        MqttClient first = rawModule(deviceId, "m", module);
        assertEquals(List.of(1), subscribe(first, "$iothub/methods/POST/#"));
        await(first.disconnect());

        MqttClient second = MqttClient.create(vertx, options(deviceId + "/m",
                token("devices/" + deviceId + "/modules/m", module.getPrimaryKey())));
        second.publishHandler(request -> answer(second, request));
        await(second.connect(hub.mqttPort(), WellKnownKeys.HOST_NAME));
        try {
            DirectMethodResponse response = methods.invoke(deviceId, "m", "resume",
                    DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).build());
            assertEquals(200, response.getStatus());
        } finally {
            disconnectQuietly(second);
        }
    }

    /** Shares the hub with the other classes: it leaves the hub running and builds new service clients afterwards. */
    @Test
    void aHubRestartKeepsModulesTheirTwinsAndTheirSessions() throws Exception {
        String deviceId = newDevice("modc-restart");
        Module module = newModule(deviceId, "m");
        Twin patch = new Twin(deviceId, "m");
        patch.getDesiredProperties().put("rate", 9);
        twins.patch(patch);
        MqttClient before = rawModule(deviceId, "m", module);
        assertEquals(List.of(1), subscribe(before, "$iothub/methods/POST/#"));
        await(before.disconnect());

        hub.restart();

        RegistryClient registryAfter = new RegistryClient(hub.hubConnectionString());
        assertEquals(module.getPrimaryKey(), registryAfter.getModule(deviceId, "m").getPrimaryKey());
        Twin twin = new TwinClient(hub.hubConnectionString()).get(deviceId, "m");
        assertEquals(9, ((Number) twin.getDesiredProperties().get("rate")).intValue());
        MqttClient after = MqttClient.create(vertx, options(deviceId + "/m",
                token("devices/" + deviceId + "/modules/m", module.getPrimaryKey())));
        after.publishHandler(request -> answer(after, request));
        await(after.connect(hub.mqttPort(), WellKnownKeys.HOST_NAME));
        try {
            DirectMethodResponse response = new DirectMethodsClient(hub.hubConnectionString()).invoke(deviceId, "m",
                    "afterRestart", DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).build());
            assertEquals(200, response.getStatus(), "the stored session still routes methods without a new SUBSCRIBE");
        } finally {
            disconnectQuietly(after);
        }
    }

    @Test
    void deletingAModuleOrItsDeviceClosesTheModulesConnection() throws Exception {
        String deviceId = newDevice("modc-delete");
        Module a = newModule(deviceId, "a");
        Module b = newModule(deviceId, "b");
        MqttClient clientA = rawModule(deviceId, "a", a);
        MqttClient clientB = rawModule(deviceId, "b", b);
        CompletableFuture<Void> closedA = new CompletableFuture<>();
        clientA.closeHandler(v -> closedA.complete(null));
        CompletableFuture<Void> closedB = new CompletableFuture<>();
        clientB.closeHandler(v -> closedB.complete(null));

        registry.removeModule(deviceId, "a");
        closedA.get(5, TimeUnit.SECONDS);
        assertFalse(closedB.isDone(), "the sibling stays connected");
        registry.removeDevice(deviceId);
        closedB.get(5, TimeUnit.SECONDS);
        IotHubException gone = assertThrows(IotHubNotFoundException.class, () -> twins.get(deviceId, "b"));
        assertEquals(404001, gone.getErrorCode());
    }

    // ---- helpers -------------------------------------------------------------------------------------

    /** Answers a method request the way a device does: status 200 and the request's payload back. */
    private static void answer(MqttClient client, MqttPublishMessage request) {
        String topic = request.topicName();
        if (topic.startsWith("$iothub/methods/POST/")) {
            String rid = topic.substring(topic.indexOf("$rid=") + 5);
            client.publish("$iothub/methods/res/200/?$rid=" + rid, Buffer.buffer("{}"), MqttQoS.AT_MOST_ONCE, false, false);
        }
    }

    private MqttClient rawModule(String deviceId, String moduleId, Module module) throws Exception {
        return rawConnect(deviceId + "/" + moduleId, token("devices/" + deviceId + "/modules/" + moduleId, module.getPrimaryKey()));
    }

    private MqttClient rawConnect(String clientId, String password) throws Exception {
        MqttClient client = MqttClient.create(vertx, options(clientId, password));
        await(client.connect(hub.mqttPort(), WellKnownKeys.HOST_NAME));
        return client;
    }

    private void assertRefused(String clientId, String password) {
        MqttClient client = MqttClient.create(vertx, options(clientId, password));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> await(client.connect(hub.mqttPort(), WellKnownKeys.HOST_NAME)));
        MqttConnectionException refused = assertInstanceOf(MqttConnectionException.class, e.getCause());
        assertEquals(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, refused.code());
    }

    private static List<Integer> subscribe(MqttClient client, String filter) throws Exception {
        CompletableFuture<MqttSubAckMessage> suback = new CompletableFuture<>();
        client.subscribeCompletionHandler(suback::complete);
        await(client.subscribe(filter, 1));
        return suback.get(5, TimeUnit.SECONDS).grantedQoSLevels();
    }

    private static String token(String path, String key) {
        return SasToken.create(WellKnownKeys.HOST_NAME + "/" + path, key, null, Instant.now().getEpochSecond() + 600);
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

    /*
     * The device SDK's twin-answer race (see TestDevices) applies to ModuleClient too: a lost answer to a GET is
     * asked again, and a reported patch whose answer went missing is read back from the service.
     */
    private static com.microsoft.azure.sdk.iot.device.twin.Twin getTwin(ModuleClient client) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return client.getTwin(5000);
            } catch (IotHubClientException e) {
                if (attempt == 3 || e.getStatusCode() != IotHubStatusCode.DEVICE_OPERATION_TIMED_OUT) {
                    throw e;
                }
            }
        }
    }

    private long updateReported(ModuleClient client, TwinCollection reported, String deviceId, String moduleId)
            throws Exception {
        try {
            return client.updateReportedProperties(reported, 5000).getVersion();
        } catch (IotHubClientException e) {
            if (e.getStatusCode() != IotHubStatusCode.DEVICE_OPERATION_TIMED_OUT) {
                throw e;
            }
            return twins.get(deviceId, moduleId).getReportedProperties().getVersion();
        }
    }
}
