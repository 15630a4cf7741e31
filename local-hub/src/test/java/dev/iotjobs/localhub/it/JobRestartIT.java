package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A hub restart in the middle of a method job: devices already done are not called again, the others
 * still are (once they connect), and the job's statistics end exact.
 */
@ExtendWith(LocalHubExtension.class)
class JobRestartIT {
    private static final int ONLINE = 15;
    private static final int LATE = 15;

    @Test
    void scheduleDirectMethod_survivesHubRestart_withoutRerunningFinishedDevices(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("restart");
        List<Device> devices = JobsApiIT.taggedDevices(hub, run, ONLINE + LATE);
        Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        List<DeviceClient> clients = new ArrayList<>();
        try {
            for (Device d : devices.subList(0, ONLINE)) {
                clients.add(counting(d, calls));
            }
            ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
            String jobId = "restart-" + UUID.randomUUID();
            jobs.scheduleDirectMethod(jobId, "tags.run = '" + run + "'", "lockDoor", new Date(),
                    DirectMethodsJobOptions.builder().methodConnectTimeoutSeconds(120).methodResponseTimeoutSeconds(30)
                            .maxExecutionTimeSeconds(300).build());
            awaitSucceeded(jobs, jobId, ONLINE);

            hub.restart();
            jobs = new ScheduledJobsClient(hub.hubConnectionString());
            ScheduledJob afterRestart = jobs.get(jobId);
            assertEquals(ScheduledJobStatus.running, afterRestart.getJobStatus());
            assertEquals(ONLINE, afterRestart.getJobStatistics().getSucceededCount());
            assertEquals(ONLINE + LATE, afterRestart.getJobStatistics().getDeviceCount());

            for (Device d : devices.subList(ONLINE, ONLINE + LATE)) {
                clients.add(counting(d, calls));
            }
            ScheduledJob done = JobsApiIT.awaitTerminal(jobs, jobId, 60_000);
            assertEquals(ScheduledJobStatus.completed, done.getJobStatus());
            assertEquals(ONLINE + LATE, done.getJobStatistics().getSucceededCount());
            assertEquals(0, done.getJobStatistics().getFailedCount());
            for (Device d : devices) {
                assertEquals(1, calls.get(d.getDeviceId()).get(), "calls of " + d.getDeviceId());
            }
        } finally {
            clients.forEach(DeviceClient::close);
        }
    }

    private static DeviceClient counting(Device d, Map<String, AtomicInteger> calls) throws Exception {
        DeviceClient c = TestDevices.connect(d);
        calls.put(d.getDeviceId(), new AtomicInteger());
        c.subscribeToMethods((name, payload, ctx) -> {
            calls.get(d.getDeviceId()).incrementAndGet();
            return new DirectMethodResponse(200, null);
        }, null);
        return c;
    }

    private static void awaitSucceeded(ScheduledJobsClient jobs, String jobId, int expected) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (jobs.get(jobId).getJobStatistics().getSucceededCount() < expected) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("devices did not answer");
            }
            Thread.sleep(100);
        }
    }
}
