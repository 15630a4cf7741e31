package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import dev.iotjobs.localhub.tls.DeviceCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jobs reach devices whatever their transport: a direct-method job and a twin job over a fleet of MQTT, MQTT_WS,
 * AMQPS and AMQPS_WS devices, with SAS and X.509 (self-signed and CA-signed) authentication, all through the
 * unmodified SDKs.
 */
@ExtendWith(LocalHubExtension.class)
class AmqpJobsIT {

    private record Member(String id, String label, DeviceClient client) {
    }

    private static Member sas(LocalHub hub, String run, int i, IotHubClientProtocol protocol) throws Exception {
        Device d = TestDevices.register(hub, run + "-" + i);
        DeviceClient client = new DeviceClient(TestDevices.connectionString(d), protocol, TestDevices.options(hub, protocol).build());
        return new Member(d.getDeviceId(), protocol + "/sas", client);
    }

    private static Member x509(LocalHub hub, String run, int i, IotHubClientProtocol protocol, boolean ca) throws Exception {
        String id = run + "-" + i;
        DeviceCertificates.Issued cert;
        if (ca) {
            X509DeviceIT.caDevice(hub, id);
            cert = DeviceCertificates.signedByDevCa(hub.config().dataDirectory(), id);
        } else {
            cert = DeviceCertificates.selfSigned(id);
            X509DeviceIT.selfSignedDevice(hub, id, DeviceCertificates.sha1Thumbprint(cert.certificate()), null);
        }
        DeviceClient client = new DeviceClient("HostName=" + WellKnownKeys.HOST_NAME + ";DeviceId=" + id + ";x509=true",
                protocol, TestDevices.options(hub, protocol).sslContext(X509DeviceIT.sslContext(hub, cert)).build());
        return new Member(id, protocol + (ca ? "/ca" : "/selfSigned"), client);
    }

    @Test
    void methodAndTwinJobs_overMqttMqttWsAmqpsAndAmqpsWs_sasAndX509(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("amqp-jobs");
        List<Member> fleet = new ArrayList<>();
        List<BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin>> patches = new ArrayList<>();
        try {
            fleet.add(sas(hub, run, 0, IotHubClientProtocol.MQTT));
            fleet.add(sas(hub, run, 1, IotHubClientProtocol.MQTT_WS));
            fleet.add(sas(hub, run, 2, IotHubClientProtocol.AMQPS));
            fleet.add(sas(hub, run, 3, IotHubClientProtocol.AMQPS_WS));
            fleet.add(x509(hub, run, 4, IotHubClientProtocol.AMQPS, false));
            fleet.add(x509(hub, run, 5, IotHubClientProtocol.AMQPS_WS, true));
            TwinClient twins = new TwinClient(hub.hubConnectionString());
            for (Member m : fleet) {
                Twin tags = new Twin(m.id());
                tags.getTags().put("run", run);
                twins.patch(tags);
                m.client().open(false);
                m.client().subscribeToMethods((name, payload, ctx) ->
                        new DirectMethodResponse(200, Map.of("via", m.label())), null);
                BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> q = new LinkedBlockingQueue<>();
                m.client().subscribeToDesiredProperties((twin, ctx) -> q.add(twin), null);
                patches.add(q);
            }

            ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
            String methodJob = "job-" + UUID.randomUUID();
            jobs.scheduleDirectMethod(methodJob, "tags.run = '" + run + "'", "lockDoor", new Date(),
                    DirectMethodsJobOptions.builder().methodConnectTimeoutSeconds(10).methodResponseTimeoutSeconds(10)
                            .maxExecutionTimeSeconds(60).build());
            ScheduledJob done = JobsApiIT.awaitTerminal(jobs, methodJob, 60_000);
            assertEquals(ScheduledJobStatus.completed, done.getJobStatus());
            assertEquals(fleet.size(), done.getJobStatistics().getSucceededCount());
            Map<String, ScheduledJob> records = JobsApiIT.deviceRecords(hub, methodJob);
            for (Member m : fleet) {
                ScheduledJob row = records.get(m.id());
                assertNotNull(row, m.label());
                assertEquals(200, row.getOutcomeResult().getStatus(), m.label());
                assertTrue(row.getOutcomeResult().getPayloadAsJsonString().contains(m.label()),
                        m.label() + ": " + row.getOutcomeResult().getPayloadAsJsonString());
            }

            Twin patch = new Twin();
            patch.getDesiredProperties().put("building", 43);
            String twinJob = "job-" + UUID.randomUUID();
            jobs.scheduleUpdateTwin(twinJob, "tags.run = '" + run + "'", patch, new Date(), 60);
            assertEquals(fleet.size(), JobsApiIT.awaitTerminal(jobs, twinJob, 60_000).getJobStatistics().getSucceededCount());
            for (int i = 0; i < fleet.size(); i++) {
                com.microsoft.azure.sdk.iot.device.twin.Twin received = patches.get(i).poll(15, TimeUnit.SECONDS);
                assertNotNull(received, fleet.get(i).label() + " gets the twin job's desired patch");
                assertEquals(43, ((Number) received.getDesiredProperties().get("building")).intValue());
            }
        } finally {
            fleet.forEach(m -> m.client().close());
        }
    }
}
