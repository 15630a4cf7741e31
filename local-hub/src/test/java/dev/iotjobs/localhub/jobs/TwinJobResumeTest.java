package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.DeviceConnections;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.method.MethodService;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.DeviceStore;
import dev.iotjobs.localhub.device.RegistryService;
import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.MemoryHubStore;
import dev.iotjobs.localhub.device.TwinService;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A job stopped half-way resumes from what was committed. First, a twin job: the store below holds a running job whose
 * first batch of devices is recorded as done (as a hub killed after that commit leaves it), and a new hub
 * on the same store finishes only the others.
 */
class TwinJobResumeTest {
    private static final JobLimits LIMITS = new JobLimits(10, 2000);
    private static final int DEVICES = 2500;

    @Test
    void runningTwinJob_resumesWithoutRepatchingCommittedBatches() throws Exception {
        HubStore store = new MemoryHubStore();
        DeviceRegistry registry = new DeviceRegistry(new DeviceStore(store), Clock.systemUTC());
        RegistryService registryService = new RegistryService(registry);
        for (int start = 0; start < DEVICES; start += 100) {
            ArrayNode batch = Json.NODES.arrayNode();
            for (int i = start; i < start + 100; i++) {
                batch.addObject().put("id", String.format("dev-%05d", i)).put("importMode", "create")
                        .putObject("tags").put("site", "b43");
            }
            registryService.bulk(batch);
        }
        List<String> targets = new ArrayList<>();
        registry.all().forEach(d -> targets.add(d.id()));
        targets.sort(null);

        // What a hub leaves behind when killed after committing the first batch of a running twin job.
        storeRunningTwinJob(store, "resume-1", "tags.site = 'b43'", "building", 43, targets);
        int[] firstBatch = new int[1000];
        for (int i = 0; i < firstBatch.length; i++) {
            firstBatch[i] = i;
        }
        store.putAll(List.of(JobStore.twinBatch("resume-1", firstBatch, 1, 2)));

        TwinService twins = new TwinService(registry);
        try (JobExecutors threads = JobExecutors.start(2);
             JobService jobs = new JobService(new JobStore(store), registry, twins,
                     new MethodService(registry, new NoDevices()), threads, LIMITS)) {
            awaitCompleted(jobs, "resume-1");
            ObjectNode stats = (ObjectNode) jobs.get("resume-1").get("deviceJobStatistics");
            assertEquals(DEVICES, stats.get("deviceCount").asInt());
            assertEquals(DEVICES, stats.get("succeededCount").asInt());
            assertEquals(0, stats.get("failedCount").asInt());
        }
        // The committed batch was not patched again; every other device was patched once.
        assertEquals(1, registry.get(targets.get(0)).desired().version());
        assertEquals(1, registry.get(targets.get(999)).desired().version());
        assertEquals(2, registry.get(targets.get(1000)).desired().version());
        assertEquals(2, registry.get(targets.get(DEVICES - 1)).desired().version());
        assertEquals(43, registry.get(targets.get(DEVICES - 1)).desired().values().get("building").asInt());
    }

    @Test
    void runningJob_keepsTheOutcomesRecordedInBatches() throws Exception {
        HubStore store = new MemoryHubStore();
        DeviceRegistry registry = new DeviceRegistry(new DeviceStore(store), Clock.systemUTC());
        RegistryService registryService = new RegistryService(registry);
        ArrayNode batch = Json.NODES.arrayNode();
        for (int i = 0; i < 10; i++) {
            batch.addObject().put("id", String.format("old-%02d", i)).put("importMode", "create")
                    .putObject("tags").put("site", "b44");
        }
        registryService.bulk(batch);
        List<String> targets = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            targets.add(String.format("old-%02d", i));
        }
        storeRunningTwinJob(store, "resume-2", "tags.site = 'b44'", "floor", 3, targets);
        // Devices 3 and 7 failed, recorded together; device 5 completed, recorded in a commit of its own.
        ObjectNode error = DeviceJobRecords.errorResult("DeviceNotFound", "gone");
        JobStore jobStore = new JobStore(store);
        Job job = new JobStore(store).loadAll().get(0);
        jobStore.saveOutcomes(Map.of(job, List.of(
                new JobStore.Outcome(3, DeviceJobStatus.FAILED, 1, 2, error),
                new JobStore.Outcome(7, DeviceJobStatus.FAILED, 1, 2, error))));
        jobStore.saveOutcomes(Map.of(job, List.of(new JobStore.Outcome(5, DeviceJobStatus.COMPLETED, 1, 2, null))));

        try (JobExecutors threads = JobExecutors.start(2);
             JobService jobs = new JobService(jobStore, registry, new TwinService(registry),
                     new MethodService(registry, new NoDevices()), threads, LIMITS)) {
            awaitCompleted(jobs, "resume-2");
            ObjectNode stats = (ObjectNode) jobs.get("resume-2").get("deviceJobStatistics");
            assertEquals(8, stats.get("succeededCount").asInt(), stats.toString());
            assertEquals(2, stats.get("failedCount").asInt(), stats.toString());
        }
        for (String recorded : List.of("old-03", "old-05", "old-07")) {
            assertEquals(1, registry.get(recorded).desired().version(), recorded + " must not be patched again");
        }
        assertEquals(2, registry.get("old-04").desired().version());
    }

    /** What a hub leaves behind when killed while a twin job runs: the job (started now) and its targets. */
    private static void storeRunningTwinJob(HubStore store, String jobId, String condition, String property,
                                            int value, List<String> targets) {
        ObjectNode request = Json.object();
        request.put("jobId", jobId).put("type", "scheduleUpdateTwin").put("queryCondition", condition)
                .put("startTime", "2026-01-01T00:00:00Z").put("maxExecutionTimeInSeconds", 3600);
        request.putObject("updateTwin").put("etag", "*").putObject("properties").putObject("desired").put(property, value);
        ObjectNode job = Json.object();
        job.set("request", request);
        job.put("createdTime", "2026-01-01T00:00:00Z").put("status", "running")
                .put("runStarted", Instant.now().toString()); // its hour-long time limit still runs
        store.put(HubStore.Bucket.JOBS, jobId, Json.bytes(job));
        ArrayNode targetChunk = Json.NODES.arrayNode();
        targets.forEach(targetChunk::add);
        store.put(HubStore.Bucket.DEVICE_JOBS, JobStore.targetKey(jobId, 0), Json.bytes(targetChunk));
    }

    private static void awaitCompleted(JobService jobs, String jobId) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!jobs.get(jobId).get("status").asText().equals("completed")) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("job did not complete: " + jobs.get(jobId));
            }
            Thread.sleep(20);
        }
    }

    /** No device is ever connected (a twin job needs none). */
    private static final class NoDevices implements DeviceConnections {
        @Override
        public boolean isMethodReady(String deviceId) {
            return false;
        }

        @Override
        public CompletableFuture<Void> awaitMethodReady(String deviceId, Duration timeout) {
            return new CompletableFuture<>();
        }

        @Override
        public CompletableFuture<MethodResponse> sendMethodRequest(String deviceId,
                                                                                               String methodName, String payloadJson) {
            return new CompletableFuture<>();
        }
    }
}
