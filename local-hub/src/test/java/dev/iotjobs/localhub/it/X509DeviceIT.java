package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.auth.AuthenticationType;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import dev.iotjobs.localhub.tls.DeviceCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * X.509 devices through the unmodified SDKs: registry CRUD with selfSigned and certificateAuthority devices,
 * connections with client certificates over MQTT and MQTT over WebSockets, refusals, and jobs over a fleet mixing
 * SAS and X.509, MQTT and MQTT_WS.
 */
@ExtendWith(LocalHubExtension.class)
class X509DeviceIT {
    private static final char[] PASSWORD = WellKnownKeys.TRUST_STORE_PASSWORD.toCharArray();

    /** The Java code a device uses: its key and certificate, and the hub's CA as trust anchor. */
    static SSLContext sslContext(LocalHub hub, DeviceCertificates.Issued cert) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(new ByteArrayInputStream(cert.pkcs12(PASSWORD)), PASSWORD);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, PASSWORD);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(hub.trustStore())) {
            trust.load(in, PASSWORD);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLSv1.2");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    static DeviceClient x509Client(LocalHub hub, String deviceId, DeviceCertificates.Issued cert,
                                   IotHubClientProtocol protocol) throws Exception {
        return new DeviceClient("HostName=" + WellKnownKeys.HOST_NAME + ";DeviceId=" + deviceId + ";x509=true", protocol,
                TestDevices.options(hub, protocol).sslContext(sslContext(hub, cert)).build());
    }

    static DeviceClient open(DeviceClient client) throws Exception {
        client.open(false);
        return client;
    }

    static Device selfSignedDevice(LocalHub hub, String id, String primary, String secondary) throws Exception {
        Device d = new Device(id, AuthenticationType.SELF_SIGNED);
        d.setThumbprint(primary, secondary);
        return new RegistryClient(hub.hubConnectionString()).addDevice(d);
    }

    static Device caDevice(LocalHub hub, String id) throws Exception {
        return new RegistryClient(hub.hubConnectionString()).addDevice(new Device(id, AuthenticationType.CERTIFICATE_AUTHORITY));
    }

    static void assertRefused(DeviceClient client) {
        try {
            IotHubClientException e = assertThrows(IotHubClientException.class, () -> client.open(false));
            assertEquals(IotHubStatusCode.UNAUTHORIZED, e.getStatusCode());
        } finally {
            client.close();
        }
    }

    @Test
    void registry_createGetUpdateDeleteX509Devices(LocalHub hub) throws Exception {
        RegistryClient registry = new RegistryClient(hub.hubConnectionString());
        DeviceCertificates.Issued cert = DeviceCertificates.selfSigned("x509-crud");
        String sha1 = DeviceCertificates.sha1Thumbprint(cert.certificate());
        String sha256 = DeviceCertificates.sha256Thumbprint(cert.certificate());

        String id = TestDevices.uniqueId("x509-crud");
        Device created = selfSignedDevice(hub, id, sha1, null);
        assertEquals(AuthenticationType.SELF_SIGNED, created.getAuthenticationType());
        assertEquals(sha1, created.getPrimaryThumbprint());
        assertNull(created.getPrimaryKey(), "no SAS keys for an X.509 device");

        Device read = registry.getDevice(id);
        read.setThumbprint(sha256, sha1.toLowerCase());
        Device updated = registry.updateDevice(read);
        assertEquals(sha256, updated.getPrimaryThumbprint());
        assertEquals(sha1.toLowerCase(), registry.getDevice(id).getSecondaryThumbprint());

        Device bad = new Device(TestDevices.uniqueId("x509-bad"), AuthenticationType.SELF_SIGNED);
        bad.setThumbprint("not-a-thumbprint", null);
        IotHubException e = assertThrows(IotHubException.class, () -> registry.addDevice(bad));
        assertEquals(400004, e.getErrorCode());

        String caId = TestDevices.uniqueId("x509-ca");
        assertEquals(AuthenticationType.CERTIFICATE_AUTHORITY, caDevice(hub, caId).getAuthenticationType());
        assertEquals(AuthenticationType.CERTIFICATE_AUTHORITY, registry.getDevice(caId).getAuthenticationType());

        registry.removeDevice(id);
        registry.removeDevice(caId);
        assertThrows(IotHubException.class, () -> registry.getDevice(id));
    }

    @Test
    void selfSigned_overMqtt_byItsSha256Thumbprint_twinAndMethod(LocalHub hub) throws Exception {
        String id = TestDevices.uniqueId("x509-self");
        DeviceCertificates.Issued cert = DeviceCertificates.selfSigned(id);
        selfSignedDevice(hub, id, DeviceCertificates.sha1Thumbprint(DeviceCertificates.selfSigned(id).certificate()),
                DeviceCertificates.sha256Thumbprint(cert.certificate())); // matches the secondary thumbprint
        DeviceClient client = open(x509Client(hub, id, cert, IotHubClientProtocol.MQTT));
        try {
            client.subscribeToDesiredProperties((twin, ctx) -> { }, null);
            client.subscribeToMethods((name, payload, ctx) -> new DirectMethodResponse(200, Map.of("auth", "x509")), null);
            TwinCollection reported = new TwinCollection();
            reported.put("auth", "selfSigned");
            assertEquals(2, TestDevices.updateReported(client, reported, hub, id));
            assertEquals("selfSigned", TestDevices.getTwin(client).getReportedProperties().get("auth"));
            var response = new DirectMethodsClient(hub.hubConnectionString()).invoke(id, "who",
                    DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).build());
            assertEquals(200, response.getStatus());
            assertEquals("CONNECTED", new TwinClient(hub.hubConnectionString()).get(id).getConnectionState());
        } finally {
            client.close();
        }
    }

    @Test
    void certificateAuthority_overMqttWs_withACertificateFromTheDevCa(LocalHub hub) throws Exception {
        String id = TestDevices.uniqueId("x509-ca");
        caDevice(hub, id);
        DeviceCertificates.Issued cert = DeviceCertificates.signedByDevCa(hub.config().dataDirectory(), id);
        DeviceClient client = open(x509Client(hub, id, cert, IotHubClientProtocol.MQTT_WS));
        try {
            BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> patches = new LinkedBlockingQueue<>();
            client.subscribeToDesiredProperties((twin, ctx) -> patches.add(twin), null);
            TwinCollection reported = new TwinCollection();
            reported.put("auth", "ca");
            assertEquals(2, TestDevices.updateReported(client, reported, hub, id));
            Twin desired = new Twin(id);
            desired.getDesiredProperties().put("x", 1);
            new TwinClient(hub.hubConnectionString()).patch(desired);
            assertNotNull(patches.poll(10, TimeUnit.SECONDS), "desired notification");
        } finally {
            client.close();
        }
    }

    @Test
    void wrongCertificatesAndMissingCertificatesAreRefused(LocalHub hub) throws Exception {
        String selfId = TestDevices.uniqueId("x509-wrong");
        DeviceCertificates.Issued registered = DeviceCertificates.selfSigned(selfId);
        selfSignedDevice(hub, selfId, DeviceCertificates.sha1Thumbprint(registered.certificate()), null);
        DeviceCertificates.Issued other = DeviceCertificates.selfSigned(selfId); // same CN, other key: other thumbprint
        assertRefused(x509Client(hub, selfId, other, IotHubClientProtocol.MQTT));
        assertRefused(x509Client(hub, selfId, other, IotHubClientProtocol.MQTT_WS));

        String caId = TestDevices.uniqueId("x509-ca-wrong");
        caDevice(hub, caId);
        // Signed by the hub's CA but for another device id; and self-signed with the right CN.
        assertRefused(x509Client(hub, caId, DeviceCertificates.signedByDevCa(hub.config().dataDirectory(), caId + "-x"),
                IotHubClientProtocol.MQTT));
        assertRefused(x509Client(hub, caId, DeviceCertificates.selfSigned(caId), IotHubClientProtocol.MQTT_WS));

        // An X.509 device that presents a SAS token instead of a certificate.
        assertRefused(new DeviceClient("HostName=127.0.0.1;DeviceId=" + selfId + ";SharedAccessKey="
                + WellKnownKeys.DEFAULT_DEVICE_PRIMARY_KEY, IotHubClientProtocol.MQTT));
        // A SAS device that presents a certificate (with a thumbprint nobody registered) and no token.
        Device sas = TestDevices.register(hub, TestDevices.uniqueId("x509-sas"));
        assertRefused(x509Client(hub, sas.getDeviceId(), DeviceCertificates.selfSigned(sas.getDeviceId()),
                IotHubClientProtocol.MQTT));
    }

    @Test
    void methodAndTwinJobs_overSasAndX509_mqttAndMqttWsDevices(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("x509-mix");
        TwinClient twins = new TwinClient(hub.hubConnectionString());
        List<String> ids = new ArrayList<>();
        List<DeviceClient> clients = new ArrayList<>();
        List<BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin>> patches = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                String id = run + "-" + i;
                DeviceClient client = switch (i) {
                    case 0 -> TestDevices.connect(TestDevices.register(hub, id));
                    case 1 -> open(TestDevices.webSocketClient(hub, TestDevices.connectionString(TestDevices.register(hub, id))));
                    case 2 -> {
                        DeviceCertificates.Issued cert = DeviceCertificates.selfSigned(id);
                        selfSignedDevice(hub, id, DeviceCertificates.sha1Thumbprint(cert.certificate()), null);
                        yield open(x509Client(hub, id, cert, IotHubClientProtocol.MQTT));
                    }
                    default -> {
                        caDevice(hub, id);
                        yield open(x509Client(hub, id, DeviceCertificates.signedByDevCa(hub.config().dataDirectory(), id),
                                IotHubClientProtocol.MQTT_WS));
                    }
                };
                clients.add(client);
                Twin tags = new Twin(id);
                tags.getTags().put("run", run);
                twins.patch(tags);
                ids.add(id);
                int n = i;
                client.subscribeToMethods((name, payload, ctx) -> new DirectMethodResponse(200, Map.of("device", "d" + n)), null);
                BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> q = new LinkedBlockingQueue<>();
                client.subscribeToDesiredProperties((twin, ctx) -> q.add(twin), null);
                patches.add(q);
            }
            ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
            String methodJob = "job-" + UUID.randomUUID();
            jobs.scheduleDirectMethod(methodJob, "tags.run = '" + run + "'", "lockDoor", new Date(),
                    DirectMethodsJobOptions.builder().methodConnectTimeoutSeconds(5).methodResponseTimeoutSeconds(10)
                            .maxExecutionTimeSeconds(60).build());
            ScheduledJob done = JobsApiIT.awaitTerminal(jobs, methodJob, 30_000);
            assertEquals(ScheduledJobStatus.completed, done.getJobStatus());
            assertEquals(4, done.getJobStatistics().getSucceededCount());
            Map<String, ScheduledJob> records = JobsApiIT.deviceRecords(hub, methodJob);
            for (int i = 0; i < ids.size(); i++) {
                assertEquals("{\"device\":\"d" + i + "\"}", records.get(ids.get(i)).getOutcomeResult().getPayloadAsJsonString());
            }

            Twin patch = new Twin();
            patch.getDesiredProperties().put("building", 43);
            String twinJob = "job-" + UUID.randomUUID();
            jobs.scheduleUpdateTwin(twinJob, "tags.run = '" + run + "'", patch, new Date(), 60);
            assertEquals(4, JobsApiIT.awaitTerminal(jobs, twinJob, 30_000).getJobStatistics().getSucceededCount());
            for (BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> q : patches) {
                com.microsoft.azure.sdk.iot.device.twin.Twin received = q.poll(10, TimeUnit.SECONDS);
                assertNotNull(received, "every device gets the twin job's desired patch");
                assertEquals(43, ((Number) received.getDesiredProperties().get("building")).intValue());
            }
        } finally {
            clients.forEach(DeviceClient::close);
        }
    }
}
