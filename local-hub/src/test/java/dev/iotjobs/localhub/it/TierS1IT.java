package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubTooManyRequestsException;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.query.QueryClient;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.junit.HubTier;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hub started with {@code --tier S1}, through the unmodified service SDK: jobs device operations are paced at
 * 10 per second (a method job over 200 devices spreads its device starts over at least 19.8 s, and its
 * statistics move while it runs), one job may be active at a time (a second gets 429004), and a burst of
 * queries beyond 20 per minute is first delayed, then refused with 429001.
 */
@ExtendWith(LocalHubExtension.class)
@HubTier("S1")
class TierS1IT {
    private static final int DEVICES = 200;

    @Test
    void methodJob_isPacedAt10PerSecond_oneActiveJob_andAQueryBurstIsRefused(LocalHub hub) throws Exception {
        assertEquals("S1 x 1 unit", hub.throttles().describe());
        String run = TestDevices.uniqueId("s1");
        ObjectNode tags = Json.object().put("run", run);
        TestDevices.bulkRegister(run, DEVICES, tags);
        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());

        String first = "s1-method-" + UUID.randomUUID();
        jobs.scheduleDirectMethod(first, "tags.run = '" + run + "'", "reboot", new Date(),
                DirectMethodsJobOptions.builder().methodConnectTimeoutSeconds(0).methodResponseTimeoutSeconds(5)
                        .maxExecutionTimeSeconds(600).build());

        // A second job while the first is active: IoT Hub's 429004 ThrottlingMaxActiveJobCountExceeded.
        Twin patch = new Twin();
        patch.getTags().put("stage", "second");
        IotHubTooManyRequestsException refused = assertThrows(IotHubTooManyRequestsException.class, () ->
                jobs.scheduleUpdateTwin("s1-twin-" + UUID.randomUUID(), "tags.run = '" + run + "'", patch, new Date(), 60));
        assertEquals(429004, refused.getErrorCode());

        // The job moves device by device: some poll sees it part-way.
        boolean seenPartWay = false;
        ScheduledJob job;
        do {
            Thread.sleep(1000);
            job = jobs.get(first);
            int done = job.getJobStatistics().getSucceededCount() + job.getJobStatistics().getFailedCount();
            seenPartWay |= done > 0 && done < DEVICES;
        } while (job.getJobStatus() == ScheduledJobStatus.running || job.getJobStatus() == ScheduledJobStatus.queued);
        assertEquals(ScheduledJobStatus.completed, job.getJobStatus());
        assertEquals(DEVICES, job.getJobStatistics().getDeviceCount());
        assertTrue(seenPartWay, "statistics moved while the job ran");

        // 200 operations at 10 per second, two at once at most: the last starts at least 19.8 s after the first.
        Map<String, ScheduledJob> records = JobsApiIT.deviceRecords(hub, first);
        assertEquals(DEVICES, records.size());
        long firstStart = records.values().stream().mapToLong(r -> r.getStartTime().getTime()).min().orElseThrow();
        long lastStart = records.values().stream().mapToLong(r -> r.getStartTime().getTime()).max().orElseThrow();
        assertTrue(lastStart - firstStart >= 19_000, "device starts spread over " + (lastStart - firstStart) + " ms");

        // With the first job over, the second one is accepted.
        jobs.scheduleUpdateTwin("s1-twin-" + UUID.randomUUID(), "tags.run = '" + run + "'", patch, new Date(), 60);

        // Queries: 20 per minute on S1. Forty at once (as forty back-end threads would send them): the minute's
        // allowance is served, a few more wait for their turn (up to the backlog), the rest get 429001.
        ExecutorService senders = Executors.newFixedThreadPool(40);
        try {
            List<Future<Integer>> answers = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                answers.add(senders.submit(() -> {
                    try {
                        new QueryClient(hub.hubConnectionString()).queryTwins("SELECT * FROM devices WHERE deviceId = '" + run + "-0'");
                        return 200;
                    } catch (IotHubTooManyRequestsException e) {
                        return e.getErrorCode();
                    }
                }));
            }
            Map<Integer, Integer> outcomes = new HashMap<>();
            for (Future<Integer> answer : answers) {
                outcomes.merge(answer.get(), 1, Integer::sum);
            }
            assertTrue(outcomes.getOrDefault(200, 0) >= 18, "the minute's allowance is served: " + outcomes);
            assertTrue(outcomes.getOrDefault(429001, 0) > 0, "the rest is refused with 429001: " + outcomes);
            assertEquals(40, outcomes.getOrDefault(200, 0) + outcomes.getOrDefault(429001, 0), outcomes.toString());
        } finally {
            senders.shutdownNow();
        }
    }
}
