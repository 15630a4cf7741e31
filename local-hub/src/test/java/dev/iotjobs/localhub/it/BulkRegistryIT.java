package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.ModuleClient;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.auth.AuthenticationType;
import com.microsoft.azure.sdk.iot.service.auth.IotHubConnectionStringBuilder;
import com.microsoft.azure.sdk.iot.service.auth.IotHubServiceSasToken;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubBadFormatException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubExceptionManager;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubNotFoundException;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.Module;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.registry.serializers.AuthenticationParser;
import com.microsoft.azure.sdk.iot.service.registry.serializers.AuthenticationTypeParser;
import com.microsoft.azure.sdk.iot.service.registry.serializers.ExportImportDeviceParser;
import com.microsoft.azure.sdk.iot.service.registry.serializers.SymmetricKeyParser;
import com.microsoft.azure.sdk.iot.service.registry.serializers.X509ThumbprintParser;
import com.microsoft.azure.sdk.iot.service.transport.http.HttpMethod;
import com.microsoft.azure.sdk.iot.service.transport.http.HttpRequest;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import dev.iotjobs.localhub.tls.DeviceCertificates;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bulk registry operation ({@code POST /devices}) with module entries, as Microsoft's own SDK end-to-end tests
 * use it: the service SDK's {@link HttpRequest} with ExportImportDevice entries built by its
 * {@link ExportImportDeviceParser} and the answer checked by its {@link IotHubExceptionManager}. The modules are then
 * used by the unmodified {@link ModuleClient} over MQTT and MQTT over WebSockets (SAS and X.509). Also: a request
 * with failed entries (400 with the per-entry errors, the valid entries applied), updates and deletes with and without
 * eTag, and module X.509 by thumbprint and by the hub's CA.
 */
@ExtendWith(LocalHubExtension.class)
class BulkRegistryIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    private LocalHub hub;
    private RegistryClient registry;
    private TwinClient twins;
    private DirectMethodsClient methods;

    @BeforeEach
    void setUp(LocalHub hub) {
        this.hub = hub;
        registry = new RegistryClient(hub.hubConnectionString());
        twins = new TwinClient(hub.hubConnectionString());
        methods = new DirectMethodsClient(hub.hubConnectionString());
    }

    // ---- what the SDK end-to-end tests do ----------------------------------------------------------------------

    /** Base64 of 16 random bytes, the keys the SDK tests generate for their identities. */
    private static String newKey() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static ExportImportDeviceParser entry(String deviceId, String moduleId, String importMode) {
        ExportImportDeviceParser e = new ExportImportDeviceParser();
        e.setId(deviceId);
        if (moduleId != null) {
            e.setModuleId(moduleId);
        }
        e.setImportMode(importMode);
        return e;
    }

    private static ExportImportDeviceParser sasEntry(String deviceId, String moduleId, String importMode,
                                                     String primaryKey, String secondaryKey) {
        ExportImportDeviceParser e = entry(deviceId, moduleId, importMode);
        AuthenticationParser auth = new AuthenticationParser();
        auth.setType(AuthenticationTypeParser.SAS);
        auth.setSymmetricKey(new SymmetricKeyParser(primaryKey, secondaryKey));
        e.setAuthentication(auth);
        return e;
    }

    private static ExportImportDeviceParser selfSignedEntry(String deviceId, String moduleId, String thumbprint) {
        ExportImportDeviceParser e = entry(deviceId, moduleId, "create");
        AuthenticationParser auth = new AuthenticationParser();
        auth.setType(AuthenticationTypeParser.SELF_SIGNED);
        auth.setThumbprint(new X509ThumbprintParser(thumbprint, thumbprint));
        e.setAuthentication(auth);
        return e;
    }

    /** The request body the SDK tests send: a JSON array of the entries' own JSON. */
    private static String body(List<ExportImportDeviceParser> entries) {
        List<String> parts = new ArrayList<>();
        for (ExportImportDeviceParser e : entries) {
            parts.add(e.toJson());
        }
        return "[" + String.join(",", parts) + "]";
    }

    /** POST /devices?api-version=2021-04-12 through the service SDK's own HTTP request, as the SDK tests do. */
    private com.microsoft.azure.sdk.iot.service.transport.http.HttpResponse bulk(String body) throws Exception {
        var connectionString = IotHubConnectionStringBuilder.createIotHubConnectionString(hub.hubConnectionString());
        URL url = new URL("https://" + connectionString.getHostName() + "/devices/?api-version=2021-04-12");
        HttpRequest request = new HttpRequest(url, HttpMethod.POST, body.getBytes(StandardCharsets.UTF_8),
                new IotHubServiceSasToken(connectionString).toString());
        request.setReadTimeoutSeconds(30);
        return request.send();
    }

    /** A bulk request that must succeed entirely: the check the SDK tests make. */
    private JsonNode bulkOk(List<ExportImportDeviceParser> entries) throws Exception {
        var response = bulk(body(entries)); // the SDK's request throws on an error status
        IotHubExceptionManager.httpResponseVerification(response);
        assertEquals(200, response.getStatus());
        JsonNode result = MAPPER.readTree(response.getBody());
        assertTrue(result.get("isSuccessful").asBoolean(), result.toString());
        return result;
    }

    /**
     * A bulk request with failed entries: IoT Hub answers 400 with the result as the body, which the service SDK's
     * HTTP request reports as its bad-format exception whose message is that body.
     */
    private JsonNode bulkFailed(List<ExportImportDeviceParser> entries) throws Exception {
        IotHubBadFormatException e = assertThrows(IotHubBadFormatException.class, () -> bulk(body(entries)));
        JsonNode result = MAPPER.readTree(e.getMessage());
        assertFalse(result.get("isSuccessful").asBoolean());
        return result;
    }

    /** {@code deviceId[/moduleId] -> errorCode} of a bulk result's errors. */
    private static Map<String, String> errors(JsonNode result) {
        Map<String, String> byIdentity = new HashMap<>();
        for (JsonNode e : result.get("errors")) {
            String key = e.get("deviceId").asText() + (e.hasNonNull("moduleId") ? "/" + e.get("moduleId").asText() : "");
            byIdentity.put(key, e.get("errorCode").asText());
            assertFalse(e.get("errorStatus").asText().isEmpty(), "every error says why");
        }
        return byIdentity;
    }

    private ModuleClient moduleClient(String deviceId, String moduleId, String key, IotHubClientProtocol protocol) {
        return new ModuleClient("HostName=" + WellKnownKeys.HOST_NAME + ";DeviceId=" + deviceId + ";ModuleId=" + moduleId
                + ";SharedAccessKey=" + key, protocol, TestDevices.options(hub, protocol).build());
    }

    /** Twin read, reported properties and a direct method through an open module client. */
    private void useModule(ModuleClient client, String deviceId, String moduleId, String transport) throws Exception {
        client.subscribeToMethods((name, payload, ctx) ->
                new com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse(200, transport + ":" + name), null);
        client.subscribeToDesiredProperties((t, ctx) -> { }, null); // the SDK's precondition for getTwin
        var patch = new com.microsoft.azure.sdk.iot.service.twin.Twin(deviceId, moduleId);
        patch.getDesiredProperties().put("rate", 5);
        twins.patch(patch);
        assertEquals(5, ((Number) TestDevices.getTwin(client).getDesiredProperties().get("rate")).intValue());

        TwinCollection reported = new TwinCollection();
        reported.put("transport", transport);
        assertEquals(2, TestDevices.updateReported(client, reported, hub, deviceId));
        assertEquals(transport, twins.get(deviceId, moduleId).getReportedProperties().get("transport"));
        assertTrue(twins.get(deviceId).getReportedProperties().isEmpty(), "the device's own twin is untouched");

        DirectMethodResponse response = methods.invoke(deviceId, moduleId, "ping",
                DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).build());
        assertEquals(200, response.getStatus());
        assertEquals("\"" + transport + ":ping\"", response.getPayloadAsJsonString());
    }

    // ---- tests -------------------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "MQTT_WS"})
    void modulesCreatedInBulk_connectAsModuleClients(IotHubClientProtocol protocol) throws Exception {
        // As the SDK tests: devices first, then one bulk request with a module entry per device.
        List<Device> devices = new ArrayList<>();
        List<ExportImportDeviceParser> entries = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Device d = TestDevices.register(hub, TestDevices.uniqueId("bulkmod-" + protocol));
            devices.add(d);
            String key = newKey();
            keys.add(key);
            entries.add(sasEntry(d.getDeviceId(), "test-module-" + i, "create", key, newKey()));
        }
        JsonNode result = bulkOk(entries);
        assertEquals(0, result.get("errors").size());

        for (int i = 0; i < 3; i++) {
            Module m = registry.getModule(devices.get(i).getDeviceId(), "test-module-" + i);
            assertEquals(keys.get(i), m.getPrimaryKey(), "the module has the keys of its entry");
            assertEquals(AuthenticationType.SAS, m.getAuthenticationType());
        }
        String deviceId = devices.get(0).getDeviceId();
        ModuleClient client = moduleClient(deviceId, "test-module-0", keys.get(0), protocol);
        client.open(false);
        try {
            assertEquals("CONNECTED", registry.getModule(deviceId, "test-module-0").getConnectionState().toString()
                    .toUpperCase());
            useModule(client, deviceId, "test-module-0", protocol.name());
        } finally {
            client.close();
        }

        // Deleting the devices in bulk (as the SDK tests clean up) deletes their modules.
        List<ExportImportDeviceParser> deletes = new ArrayList<>();
        for (Device d : devices) {
            deletes.add(entry(d.getDeviceId(), null, "delete"));
        }
        bulkOk(deletes);
        for (Device d : devices) {
            assertThrows(IotHubNotFoundException.class, () -> registry.getModule(d.getDeviceId(), "test-module-0"));
        }
    }

    @Test
    void aRequestWithFailedEntries_is400WithEachError_andTheValidEntriesAreApplied() throws Exception {
        String existing = TestDevices.register(hub, TestDevices.uniqueId("bulkbad-dev")).getDeviceId();
        registry.addModule(new Module(existing, "taken"));
        String fresh = TestDevices.uniqueId("bulkbad-new");
        String ghost = TestDevices.uniqueId("bulkbad-ghost");

        JsonNode result = bulkFailed(List.of(
                sasEntry(fresh, null, "create", newKey(), newKey()),          // ok: a new device
                sasEntry(existing, "m1", "create", newKey(), newKey()),       // ok: a module of an existing device
                sasEntry(existing, "taken", "create", newKey(), newKey()),    // the module exists
                sasEntry(ghost, "m1", "create", newKey(), newKey()),          // no such device
                sasEntry(existing, null, "create", newKey(), newKey()),       // the device exists
                sasEntry(existing, "absent", "update", newKey(), newKey()),   // no such module to update
                sasEntry(existing, "m1", "create", newKey(), newKey()),       // the same module twice
                sasEntry(fresh, "m2", "create", newKey(), newKey())));        // its device is created by this request
        Map<String, String> errors = errors(result);
        assertEquals(8 - 2, result.get("errors").size());
        assertEquals(Map.of(
                existing + "/taken", "ModuleAlreadyExistsOnDevice",
                ghost + "/m1", "DeviceNotFound",
                existing, "DeviceAlreadyExists",
                existing + "/absent", "ModuleNotFound",
                existing + "/m1", "DeviceDefinedMultipleTimes",
                fresh + "/m2", "DeviceNotFound"), errors);

        assertEquals(fresh, registry.getDevice(fresh).getDeviceId(), "the valid device entry was applied");
        assertEquals("m1", registry.getModule(existing, "m1").getId(), "the valid module entry was applied");
        assertThrows(IotHubNotFoundException.class, () -> registry.getDevice(ghost));
        assertEquals(2, registry.getModulesOnDevice(existing).size());
        assertEquals(0, registry.getModulesOnDevice(fresh).size());
    }

    @Test
    void aFailedEntry_isAnswered400WithTheBulkRegistryOperationFailureCode() throws Exception {
        String existing = TestDevices.register(hub, TestDevices.uniqueId("bulkhdr")).getDeviceId();
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newBuilder()
                .proxy(java.net.ProxySelector.getDefault()).build()
                .send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("https://" + WellKnownKeys.HOST_NAME
                                        + RawHttps.withApiVersion("/devices")))
                                .header("Authorization", RawHttps.ownerToken())
                                .header("Content-Type", "application/json")
                                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                        "[{\"id\":\"" + existing + "\",\"importMode\":\"create\"}]")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(400, r.statusCode());
        assertEquals("BulkRegistryOperationFailure", r.headers().firstValue("iothub-errorcode").orElse(null));
        JsonNode result = MAPPER.readTree(r.body());
        assertFalse(result.get("isSuccessful").asBoolean());
        assertEquals(Map.of(existing, "DeviceAlreadyExists"), errors(result));
        assertEquals(0, result.get("warnings").size());
    }

    @Test
    void bodiesThatAreNotArraysOfObjects_are400WithIotHubsErrorBody() throws Exception {
        for (String body : new String[]{"{\"id\":\"d\"}", "[1,2]", "[{\"id\":\"d\",\"importMode\":\"create\"},\"x\"]",
                "[null]", "\"devices\""}) {
            RawHttps.Response r = RawHttps.send("POST", RawHttps.withApiVersion("/devices"), body);
            assertEquals(400, r.status(), body);
            assertEquals(400004, r.errorCode(), body + " -> " + r.body());
        }
    }

    @Test
    void modulesAndDevices_updatedAndDeletedInBulk_withAndWithoutETag() throws Exception {
        String deviceId = TestDevices.register(hub, TestDevices.uniqueId("bulkupd")).getDeviceId();
        String key1 = newKey();
        bulkOk(List.of(sasEntry(deviceId, "m", "create", key1, newKey()),
                sasEntry(deviceId, "gone", "create", newKey(), newKey())));
        Module created = registry.getModule(deviceId, "m");

        // update ignores the eTag; updateIfMatchETag needs the current one.
        String key2 = newKey();
        ExportImportDeviceParser update = sasEntry(deviceId, "m", "update", key2, newKey());
        update.setETag("stale");
        bulkOk(List.of(update));
        Module updated = registry.getModule(deviceId, "m");
        assertEquals(key2, updated.getPrimaryKey());
        assertNotEquals(created.getETag(), updated.getETag());

        ExportImportDeviceParser stale = sasEntry(deviceId, "m", "updateIfMatchETag", newKey(), newKey());
        stale.setETag(created.getETag());
        assertEquals(Map.of(deviceId + "/m", "PreconditionFailed"), errors(bulkFailed(List.of(stale))));
        assertEquals(key2, registry.getModule(deviceId, "m").getPrimaryKey(), "a refused entry changes nothing");

        String key3 = newKey();
        ExportImportDeviceParser matching = sasEntry(deviceId, "m", "updateIfMatchETag", key3, newKey());
        matching.setETag(updated.getETag());
        ExportImportDeviceParser createOrUpdate = sasEntry(deviceId, "n", "createOrUpdate", newKey(), newKey());
        bulkOk(List.of(matching, createOrUpdate));
        assertEquals(key3, registry.getModule(deviceId, "m").getPrimaryKey());
        assertEquals("n", registry.getModule(deviceId, "n").getId());

        // The module client sees its new key: the old one is refused, the new one connects.
        ModuleClient old = moduleClient(deviceId, "m", key1, IotHubClientProtocol.MQTT);
        try {
            IotHubClientException e = assertThrows(IotHubClientException.class, () -> old.open(false));
            assertEquals(IotHubStatusCode.UNAUTHORIZED, e.getStatusCode());
        } finally {
            old.close();
        }
        ModuleClient current = moduleClient(deviceId, "m", key3, IotHubClientProtocol.MQTT);
        current.open(false);
        current.close();

        // deleteIfMatchETag with a stale eTag is refused; delete ignores the eTag; a device update keeps its modules.
        ExportImportDeviceParser staleDelete = entry(deviceId, "gone", "deleteIfMatchETag");
        staleDelete.setETag("stale");
        assertEquals(Map.of(deviceId + "/gone", "PreconditionFailed"), errors(bulkFailed(List.of(staleDelete))));
        ExportImportDeviceParser delete = entry(deviceId, "gone", "delete");
        delete.setETag("stale");
        ExportImportDeviceParser deviceUpdate = entry(deviceId, null, "update");
        deviceUpdate.setStatus("disabled");
        bulkOk(List.of(delete, deviceUpdate));
        assertThrows(IotHubNotFoundException.class, () -> registry.getModule(deviceId, "gone"));
        assertEquals("disabled", registry.getDevice(deviceId).getStatus().toString().toLowerCase());
        assertEquals(2, registry.getModulesOnDevice(deviceId).size());
        assertEquals(Map.of(deviceId + "/gone", "ModuleNotFound"),
                errors(bulkFailed(List.of(entry(deviceId, "gone", "delete")))));
    }

    @Test
    void updateTwinEntries_mergeTagsAndDesired_andNotifyTheConnectedModule() throws Exception {
        String deviceId = TestDevices.register(hub, TestDevices.uniqueId("bulktwin")).getDeviceId();
        String key = newKey();
        bulkOk(List.of(sasEntry(deviceId, "m", "create", key, newKey())));
        java.util.concurrent.BlockingQueue<Object> desired = new java.util.concurrent.LinkedBlockingQueue<>();
        ModuleClient client = moduleClient(deviceId, "m", key, IotHubClientProtocol.MQTT);
        client.open(false);
        try {
            client.subscribeToDesiredProperties((twin, ctx) -> desired.add(twin.getDesiredProperties().get("fw")), null);
            String staleTwinEtag = twins.get(deviceId).getETag();
            twins.patch(deviceTagPatch(deviceId, "first"));
            // The SDK's parser has no twin properties: the entries are written as the REST reference shows them.
            String body = "[{\"id\":\"" + deviceId + "\",\"moduleId\":\"m\",\"importMode\":\"updateTwin\","
                    + "\"tags\":{\"site\":\"lab\"},\"properties\":{\"desired\":{\"fw\":\"2.0\"}}},"
                    + "{\"id\":\"" + deviceId + "\",\"importMode\":\"updateTwinIfMatchETag\",\"twinETag\":\""
                    + staleTwinEtag + "\",\"tags\":{\"site\":\"stale\"}}]";
            IotHubBadFormatException e = assertThrows(IotHubBadFormatException.class, () -> bulk(body));
            assertEquals(Map.of(deviceId, "PreconditionFailed"), errors(MAPPER.readTree(e.getMessage())));

            assertEquals("2.0", desired.poll(30, java.util.concurrent.TimeUnit.SECONDS), "the module is told");
            var moduleTwin = twins.get(deviceId, "m");
            assertEquals("lab", moduleTwin.getTags().get("site"));
            assertEquals("2.0", moduleTwin.getDesiredProperties().get("fw"));
            assertEquals(key, registry.getModule(deviceId, "m").getPrimaryKey(), "updateTwin leaves the identity alone");
            assertEquals("first", twins.get(deviceId).getTags().get("site"), "the stale entry changed nothing");

            String current = twins.get(deviceId).getETag();
            bulk("[{\"id\":\"" + deviceId + "\",\"importMode\":\"updateTwinIfMatchETag\",\"twinETag\":\"" + current
                    + "\",\"tags\":{\"site\":\"second\"}}]");
            assertEquals("second", twins.get(deviceId).getTags().get("site"));
        } finally {
            client.close();
        }
    }

    private static com.microsoft.azure.sdk.iot.service.twin.Twin deviceTagPatch(String deviceId, String site) {
        var patch = new com.microsoft.azure.sdk.iot.service.twin.Twin(deviceId);
        patch.getTags().put("site", site);
        return patch;
    }

    // ---- module X.509 ------------------------------------------------------------------------------------------

    private ModuleClient x509ModuleClient(String deviceId, String moduleId, DeviceCertificates.Issued cert,
                                          IotHubClientProtocol protocol) throws Exception {
        ClientOptions options = TestDevices.options(hub, protocol).sslContext(X509DeviceIT.sslContext(hub, cert)).build();
        return new ModuleClient("HostName=" + WellKnownKeys.HOST_NAME + ";DeviceId=" + deviceId + ";ModuleId=" + moduleId
                + ";x509=true", protocol, options);
    }

    private static void assertRefused(ModuleClient client) {
        try {
            IotHubClientException e = assertThrows(IotHubClientException.class, () -> client.open(false));
            assertEquals(IotHubStatusCode.UNAUTHORIZED, e.getStatusCode());
        } finally {
            client.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "MQTT_WS"})
    void selfSignedModule_createdInBulkAsTheSdkTestsDo_connectsWithItsCertificate(IotHubClientProtocol protocol)
            throws Exception {
        // As the SDK tests: a selfSigned device, then its selfSigned module with the same certificate, in bulk.
        DeviceCertificates.Issued cert = DeviceCertificates.selfSigned("bulk-x509-" + protocol);
        String thumbprint = DeviceCertificates.sha1Thumbprint(cert.certificate());
        String deviceId = X509DeviceIT.selfSignedDevice(hub, TestDevices.uniqueId("bulkx509"), thumbprint, thumbprint)
                .getDeviceId();
        String moduleId = "test-module-x509";
        bulkOk(List.of(selfSignedEntry(deviceId, moduleId, thumbprint)));
        Module m = registry.getModule(deviceId, moduleId);
        assertEquals(AuthenticationType.SELF_SIGNED, m.getAuthenticationType());
        assertEquals(thumbprint, m.getPrimaryThumbprint());

        ModuleClient client = x509ModuleClient(deviceId, moduleId, cert, protocol);
        client.open(false);
        try {
            useModule(client, deviceId, moduleId, protocol.name());
        } finally {
            client.close();
        }
        assertRefused(x509ModuleClient(deviceId, moduleId, DeviceCertificates.selfSigned("another"), protocol));
        assertRefused(moduleClient(deviceId, moduleId, newKey(), protocol)); // no certificate, a made-up key
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "MQTT_WS"})
    void caModule_needsACertificateFromTheHubsCaWithCnDeviceIdSlashModuleId(IotHubClientProtocol protocol)
            throws Exception {
        String deviceId = TestDevices.register(hub, TestDevices.uniqueId("camod")).getDeviceId();
        registry.addModule(new Module(deviceId, "m", AuthenticationType.CERTIFICATE_AUTHORITY));
        var dataDir = hub.config().dataDirectory();

        ModuleClient client = x509ModuleClient(deviceId, "m", DeviceCertificates.signedByDevCa(dataDir, deviceId + "/m"),
                protocol);
        client.open(false);
        try {
            client.subscribeToDesiredProperties((t, ctx) -> { }, null);
            TwinCollection reported = new TwinCollection();
            reported.put("auth", "ca");
            assertEquals(2, TestDevices.updateReported(client, reported, hub, deviceId));
            assertEquals("ca", twins.get(deviceId, "m").getReportedProperties().get("auth"));
        } finally {
            client.close();
        }
        // The device's CN is not the module's; another module's neither; a self-signed one with the right CN is not
        // from the CA.
        assertRefused(x509ModuleClient(deviceId, "m", DeviceCertificates.signedByDevCa(dataDir, deviceId), protocol));
        assertRefused(x509ModuleClient(deviceId, "m", DeviceCertificates.signedByDevCa(dataDir, deviceId + "/other"),
                protocol));
        assertRefused(x509ModuleClient(deviceId, "m", DeviceCertificates.selfSigned(deviceId + "/m"), protocol));
    }
}
