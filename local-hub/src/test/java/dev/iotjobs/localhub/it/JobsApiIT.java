package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobType;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.query.JobQueryResponse;
import com.microsoft.azure.sdk.iot.service.query.QueryClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scheduled jobs through the unmodified ScheduledJobsClient and QueryClient. */
@ExtendWith(LocalHubExtension.class)
class JobsApiIT {

    private static String jobId() {
        return "job-" + UUID.randomUUID();
    }

    /** Registers devices tagged {@code tags.run = run} so a job can select exactly them. */
    static List<Device> taggedDevices(LocalHub hub, String run, int count) throws Exception {
        TwinClient twins = new TwinClient(hub.hubConnectionString());
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Device d = TestDevices.register(hub, run + "-" + i);
            Twin twin = new Twin(d.getDeviceId());
            twin.getTags().put("run", run);
            twins.patch(twin);
            devices.add(d);
        }
        return devices;
    }

    static ScheduledJob awaitTerminal(ScheduledJobsClient jobs, String jobId, long millis) throws Exception {
        return Jobs.awaitTerminal(jobs, jobId, millis, 100);
    }

    static Map<String, ScheduledJob> deviceRecords(LocalHub hub, String jobId) throws Exception {
        JobQueryResponse rows = new QueryClient(hub.hubConnectionString())
                .queryJobs("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '" + jobId + "'");
        Map<String, ScheduledJob> byDevice = new HashMap<>();
        while (rows.hasNext()) {
            ScheduledJob row = rows.next();
            byDevice.put(row.getDeviceId(), row);
        }
        return byDevice;
    }

    @Test
    void scheduleDirectMethod_tagQuery_twoConnectedOneNot_exactStatisticsAndRecords(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("mj");
        List<Device> devices = taggedDevices(hub, run, 3);
        List<DeviceClient> clients = new ArrayList<>();
        try {
            for (Device d : devices.subList(0, 2)) {
                DeviceClient c = TestDevices.connect(d);
                c.subscribeToMethods((name, payload, ctx) ->
                        new DirectMethodResponse(200, Map.of("locked", payload.getPayloadAsJsonString())), null);
                clients.add(c);
            }
            ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
            String jobId = jobId();
            ScheduledJob created = jobs.scheduleDirectMethod(jobId, "tags.run = '" + run + "'", "lockDoor", new Date(),
                    DirectMethodsJobOptions.builder().payload(Map.of("lockTime", "10m"))
                            .methodConnectTimeoutSeconds(2).methodResponseTimeoutSeconds(10).maxExecutionTimeSeconds(60).build());
            assertEquals(ScheduledJobStatus.queued, created.getJobStatus());
            assertEquals(ScheduledJobType.scheduleDeviceMethod, created.getJobType());

            ScheduledJob done = awaitTerminal(jobs, jobId, 20_000);
            assertEquals(ScheduledJobStatus.completed, done.getJobStatus());
            assertEquals(3, done.getJobStatistics().getDeviceCount());
            assertEquals(2, done.getJobStatistics().getSucceededCount());
            assertEquals(1, done.getJobStatistics().getFailedCount());
            assertEquals(0, done.getJobStatistics().getPendingCount());
            assertEquals(0, done.getJobStatistics().getRunningCount());
            assertNotNull(done.getEndTime());

            Map<String, ScheduledJob> records = deviceRecords(hub, jobId);
            assertEquals(3, records.size());
            for (Device d : devices.subList(0, 2)) {
                ScheduledJob row = records.get(d.getDeviceId());
                assertEquals(ScheduledJobStatus.completed, row.getJobStatus());
                assertEquals(200, row.getOutcomeResult().getStatus());
                assertTrue(row.getOutcomeResult().getPayloadAsJsonString().contains("lockTime"));
                assertNotNull(row.getStartTime());
                assertNotNull(row.getEndTime());
            }
            ScheduledJob offline = records.get(devices.get(2).getDeviceId());
            assertEquals(ScheduledJobStatus.failed, offline.getJobStatus());
            assertTrue(offline.getError().contains("DeviceNotOnline"), offline.getError());
        } finally {
            clients.forEach(DeviceClient::close);
        }
    }

    @Test
    void scheduleUpdateTwin_updatesTagsAndDesiredOnEverySelectedDevice(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("tj");
        List<Device> devices = taggedDevices(hub, run, 4);
        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
        Twin patch = new Twin();
        patch.getTags().put("floor", 3);
        patch.getDesiredProperties().put("building", 43);
        String jobId = jobId();
        jobs.scheduleUpdateTwin(jobId, "tags.run = '" + run + "'", patch, new Date(), 60);
        ScheduledJob done = awaitTerminal(jobs, jobId, 20_000);
        assertEquals(ScheduledJobStatus.completed, done.getJobStatus());
        assertEquals(4, done.getJobStatistics().getSucceededCount());
        assertEquals(43, ((Number) done.getUpdateTwin().getDesiredProperties().get("building")).intValue());

        TwinClient twins = new TwinClient(hub.hubConnectionString());
        for (Device d : devices) {
            Twin t = twins.get(d.getDeviceId());
            assertEquals(3, ((Number) t.getTags().get("floor")).intValue());
            assertEquals(run, t.getTags().get("run"));
            assertEquals(43, ((Number) t.getDesiredProperties().get("building")).intValue());
            assertEquals(2, t.getDesiredProperties().getVersion());
        }
        Map<String, ScheduledJob> records = deviceRecords(hub, jobId);
        assertEquals(4, records.size());
        records.values().forEach(r -> assertEquals(ScheduledJobStatus.completed, r.getJobStatus()));
    }

    @Test
    void scheduleDirectMethod_inTheFuture_waitsForItsStartTime(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("fj");
        taggedDevices(hub, run, 1);
        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
        Twin patch = new Twin();
        patch.getDesiredProperties().put("later", true);
        String jobId = jobId();
        long start = System.currentTimeMillis() + 3000;
        jobs.scheduleUpdateTwin(jobId, "tags.run = '" + run + "'", patch, new Date(start), 60);
        assertEquals(ScheduledJobStatus.scheduled, jobs.get(jobId).getJobStatus());
        ScheduledJob done = awaitTerminal(jobs, jobId, 20_000);
        assertEquals(ScheduledJobStatus.completed, done.getJobStatus());
        assertTrue(System.currentTimeMillis() >= start, "completed before its start time");
        assertTrue(done.getEndTime().getTime() >= start - 1000, "ended before its start time");
    }

    @Test
    void cancel_scheduledJob_endsCancelledAndNeverRuns(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("cj");
        List<Device> devices = taggedDevices(hub, run, 1);
        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
        Twin patch = new Twin();
        patch.getDesiredProperties().put("never", true);
        String jobId = jobId();
        jobs.scheduleUpdateTwin(jobId, "tags.run = '" + run + "'", patch, new Date(System.currentTimeMillis() + 2000), 60);
        ScheduledJob cancelled = jobs.cancel(jobId);
        assertEquals(ScheduledJobStatus.cancelled, cancelled.getJobStatus());
        Thread.sleep(3000);
        assertEquals(ScheduledJobStatus.cancelled, jobs.get(jobId).getJobStatus());
        Twin t = new TwinClient(hub.hubConnectionString()).get(devices.get(0).getDeviceId());
        assertEquals(null, t.getDesiredProperties().get("never"));
    }

    @Test
    void scheduleDirectMethod_maxExecutionTime_settlesUnfinishedDevicesAsFailed(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("xj");
        List<Device> devices = taggedDevices(hub, run, 1);
        DeviceClient slow = TestDevices.connect(devices.get(0));
        try {
            slow.subscribeToMethods((name, payload, ctx) -> {
                try {
                    Thread.sleep(6000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new DirectMethodResponse(200, null);
            }, null);
            ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
            String jobId = jobId();
            jobs.scheduleDirectMethod(jobId, "tags.run = '" + run + "'", "slow", new Date(),
                    DirectMethodsJobOptions.builder().methodResponseTimeoutSeconds(30).maxExecutionTimeSeconds(2).build());
            ScheduledJob done = awaitTerminal(jobs, jobId, 10_000);
            assertEquals(ScheduledJobStatus.completed, done.getJobStatus());
            assertEquals(1, done.getJobStatistics().getFailedCount());
            assertEquals(0, done.getJobStatistics().getSucceededCount());
            ScheduledJob row = deviceRecords(hub, jobId).get(devices.get(0).getDeviceId());
            assertEquals(ScheduledJobStatus.failed, row.getJobStatus());
            assertTrue(row.getError().contains("JobRunTimeout"), row.getError());
        } finally {
            slow.close();
        }
    }

    @Test
    void scheduleUpdateTwin_duplicateJobId_is409(LocalHub hub) throws Exception {
        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
        Twin patch = new Twin();
        patch.getDesiredProperties().put("x", 1);
        String jobId = jobId();
        jobs.scheduleUpdateTwin(jobId, "deviceId = 'nobody-" + jobId + "'", patch, new Date(), 60);
        IotHubException e = assertThrows(IotHubException.class,
                () -> jobs.scheduleUpdateTwin(jobId, "deviceId = 'nobody'", patch, new Date(), 60));
        assertEquals(409104, e.getErrorCode());
    }

    @Test
    void scheduleUpdateTwin_badCondition_is400NamingTheProblem(LocalHub hub) {
        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
        Twin patch = new Twin();
        patch.getDesiredProperties().put("x", 1);
        IotHubException e = assertThrows(IotHubException.class,
                () -> jobs.scheduleUpdateTwin(jobId(), "tags.floor = = 3", patch, new Date(), 60));
        assertEquals(400004, e.getErrorCode());
        assertTrue(e.getMessage().contains("position"), e.getMessage());
    }

    @Test
    void query_byTypeAndStatus_listsCompletedTwinJobs(LocalHub hub) throws Exception {
        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
        Twin patch = new Twin();
        patch.getDesiredProperties().put("y", 1);
        String jobId = jobId();
        jobs.scheduleUpdateTwin(jobId, "deviceId = 'nobody-" + jobId + "'", patch, new Date(), 60);
        awaitTerminal(jobs, jobId, 10_000);
        JobQueryResponse listed = jobs.query(ScheduledJobType.scheduleUpdateTwin, ScheduledJobStatus.completed);
        boolean found = false;
        while (listed.hasNext()) {
            ScheduledJob j = listed.next();
            assertEquals(ScheduledJobType.scheduleUpdateTwin, j.getJobType());
            assertEquals(ScheduledJobStatus.completed, j.getJobStatus());
            assertNotNull(j.getJobStatistics());
            found |= j.getJobId().equals(jobId);
        }
        assertTrue(found, "the completed job is listed");
    }
}
