package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.device.ModuleClient;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.auth.AuthenticationType;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Module;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import dev.iotjobs.localhub.model.IdentityKey;
import dev.iotjobs.localhub.telemetry.TelemetryEvent;
import dev.iotjobs.localhub.tls.DeviceCertificates;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Modules with X.509 over AMQP: the unmodified {@link ModuleClient} with a client certificate in its
 * {@code ClientOptions.sslContext} and {@code x509=true} in its connection string, over AMQPS (5671) and AMQPS_WS
 * (a WebSocket on 443). The SDK opens no claims-based security link for X.509: the TLS client certificate is the
 * credential, checked for each module link by the module's rule, as on IoT Hub ("Authenticate identities with
 * X.509 certificates"): {@code selfSigned} by thumbprint, {@code certificateAuthority} by a chain to the hub's
 * device CA whose certificate has {@code CN=<deviceId>/<moduleId>}. Telemetry (stored with the module as its
 * source and X.509 as its authentication), a reported-properties patch and a direct method; wrong certificates are
 * refused and the SDK reports UNAUTHORIZED.
 */
@ExtendWith(LocalHubExtension.class)
class AmqpModuleX509IT {
    private LocalHub hub;
    private RegistryClient registry;
    private TwinClient twins;

    @BeforeEach
    void setUp(LocalHub hub) {
        this.hub = hub;
        registry = new RegistryClient(hub.hubConnectionString());
        twins = new TwinClient(hub.hubConnectionString());
    }

    /** What a user's module code does: its certificate's SSLContext, {@code x509=true}; a proxy only when 443 is the hub's proxy. */
    private ModuleClient client(String deviceId, String moduleId, DeviceCertificates.Issued cert,
                                IotHubClientProtocol protocol) throws Exception {
        ClientOptions.ClientOptionsBuilder options = TestDevices.options(hub, protocol)
                .sslContext(X509DeviceIT.sslContext(hub, cert));
        return new ModuleClient("HostName=" + WellKnownKeys.HOST_NAME + ";DeviceId=" + deviceId + ";ModuleId=" + moduleId
                + ";x509=true", protocol, options.build());
    }

    /** The open fails with UNAUTHORIZED: the SDK does not retry a refused certificate. */
    private static void assertRefused(ModuleClient client) {
        try {
            IotHubClientException e = assertThrows(IotHubClientException.class, () -> client.open(false));
            assertEquals(IotHubStatusCode.UNAUTHORIZED, e.getStatusCode(), e.toString());
        } finally {
            client.close();
        }
    }

    /** Telemetry, a reported patch and a direct method through an open X.509 module client. */
    private void useModule(ModuleClient client, String deviceId, String moduleId, String authMethod, String transport)
            throws Exception {
        client.subscribeToMethods((name, payload, ctx) -> new DirectMethodResponse(200, transport + ":" + name), null);
        client.subscribeToDesiredProperties((t, ctx) -> { }, null);
        assertEquals("CONNECTED", registry.getModule(deviceId, moduleId).getConnectionState().toString().toUpperCase());

        int partition = hub.telemetry().partitionOf(deviceId);
        long from = hub.telemetry().nextSequence(partition);
        Message telemetry = new Message(("{\"over\":\"" + transport + "\"}").getBytes(StandardCharsets.UTF_8));
        telemetry.setMessageId(deviceId + "-" + moduleId + "-t1");
        CompletableFuture<IotHubClientException> sent = new CompletableFuture<>();
        client.sendEventAsync(telemetry, (m, e, ctx) -> sent.complete(e), null);
        assertNull(sent.get(30, TimeUnit.SECONDS), "module telemetry accepted");
        TelemetryEvent stored = hub.telemetry().read(partition, from, 1000).stream()
                .filter(ev -> telemetry.getMessageId().equals(ev.message().messageId())).findFirst().orElse(null);
        assertNotNull(stored, "the telemetry is on the built-in endpoint");
        assertEquals(IdentityKey.module(deviceId, moduleId), stored.message().identity(), "its source is the module");
        assertEquals(authMethod, stored.message().authMethod());

        TwinCollection reported = new TwinCollection();
        reported.put("transport", transport);
        assertEquals(2, TestDevices.updateReported(client, reported, hub, deviceId));
        assertEquals(transport, twins.get(deviceId, moduleId).getReportedProperties().get("transport"));

        var response = new DirectMethodsClient(hub.hubConnectionString()).invoke(deviceId, moduleId, "ping",
                DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).methodConnectTimeoutSeconds(10).build());
        assertEquals(200, response.getStatus());
        assertEquals(transport + ":ping", response.getPayload(String.class));
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"AMQPS", "AMQPS_WS"})
    void selfSignedModule_byThumbprint_telemetryReportedAndMethod_otherCertificatesRefused(IotHubClientProtocol protocol)
            throws Exception {
        String deviceId = TestDevices.register(hub, TestDevices.uniqueId("amqp-x509mod")).getDeviceId();
        DeviceCertificates.Issued cert = DeviceCertificates.selfSigned(deviceId + "/m");
        Module module = new Module(deviceId, "m", AuthenticationType.SELF_SIGNED);
        // SHA-256 as primary, the SHA-1 of another certificate as secondary: either thumbprint may match.
        module.setThumbprint(DeviceCertificates.sha256Thumbprint(cert.certificate()),
                DeviceCertificates.sha1Thumbprint(DeviceCertificates.selfSigned("spare").certificate()));
        registry.addModule(module);

        ModuleClient client = client(deviceId, "m", cert, protocol);
        client.open(false);
        try {
            useModule(client, deviceId, "m", "selfSigned", protocol.name());
        } finally {
            client.close();
        }
        // Another self-signed certificate (same CN), and the right one for a module registered with SAS keys.
        assertRefused(client(deviceId, "m", DeviceCertificates.selfSigned(deviceId + "/m"), protocol));
        registry.addModule(new Module(deviceId, "sas"));
        assertRefused(client(deviceId, "sas", cert, protocol));
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"AMQPS", "AMQPS_WS"})
    void caModule_needsTheHubsCaAndCnDeviceIdSlashModuleId(IotHubClientProtocol protocol) throws Exception {
        String deviceId = TestDevices.register(hub, TestDevices.uniqueId("amqp-camod")).getDeviceId();
        registry.addModule(new Module(deviceId, "m", AuthenticationType.CERTIFICATE_AUTHORITY));
        Path dataDir = hub.config().dataDirectory();

        ModuleClient client = client(deviceId, "m", DeviceCertificates.signedByDevCa(dataDir, deviceId + "/m"), protocol);
        client.open(false);
        try {
            useModule(client, deviceId, "m", "certificateAuthority", protocol.name());
        } finally {
            client.close();
        }
        // The device's CN is not the module's; another module's neither; a self-signed one with the right CN is not
        // from the CA.
        assertRefused(client(deviceId, "m", DeviceCertificates.signedByDevCa(dataDir, deviceId), protocol));
        assertRefused(client(deviceId, "m", DeviceCertificates.signedByDevCa(dataDir, deviceId + "/other"), protocol));
        assertRefused(client(deviceId, "m", DeviceCertificates.selfSigned(deviceId + "/m"), protocol));
    }
}
