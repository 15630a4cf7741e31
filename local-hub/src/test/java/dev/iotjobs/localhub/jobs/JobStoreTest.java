package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.MemoryHubStore;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The jobs' keys (store format 1) and what a new hub rebuilds from them. */
class JobStoreTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void aStartedJob_itsOutcomesAndTwinBatches_areKeyedAsDocumented_andRebuiltOnLoad() {
        MemoryHubStore store = new MemoryHubStore();
        JobStore jobs = new JobStore(store);
        Job job = new Job(JobDefinition.fromRequest("keys-1", twinJobBody(), NOW));
        String[] targets = new String[JobStore.TARGET_CHUNK + 2];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = String.format("d-%06d", i);
        }
        job.start(NOW, new JobProgress(targets), () -> jobs.saveStarted(job, targets)).join();
        store.putAll(List.of(JobStore.twinBatch("keys-1", new int[]{0, 1, 2}, 10, 20)));
        jobs.saveOutcomes(Map.of(job, List.of(new JobStore.Outcome(5, DeviceJobStatus.FAILED, 11, 21,
                DeviceJobRecords.errorResult("DeviceNotFound", "gone")))));

        assertEquals(List.of("keys-1"), keys(store, HubStore.Bucket.JOBS));
        assertEquals(List.of("b/keys-1/000000000", "o/keys-1/000000005", "t/keys-1/000000", "t/keys-1/000001"),
                keys(store, HubStore.Bucket.DEVICE_JOBS));

        List<Job> loaded = new JobStore(store).loadAll();
        assertEquals(1, loaded.size());
        Job again = loaded.get(0);
        assertEquals(JobStatus.RUNNING, again.status());
        assertEquals(targets.length, again.progress().size());
        assertEquals(3, again.progress().count(DeviceJobStatus.COMPLETED));
        assertEquals(1, again.progress().count(DeviceJobStatus.FAILED));
        assertEquals(targets.length - 4, again.progress().count(DeviceJobStatus.QUEUED));
        assertEquals("DeviceNotFound", again.progress().result(5).get("error").get("code").asText());
        assertEquals(job.definition.updateTwin(), again.definition.updateTwin());
    }

    private static ObjectNode twinJobBody() {
        ObjectNode body = Json.object();
        body.put("type", "scheduleUpdateTwin").put("queryCondition", "*");
        body.putObject("updateTwin").put("etag", "*").putObject("properties").putObject("desired").put("floor", 3);
        return body;
    }

    private static List<String> keys(HubStore store, HubStore.Bucket bucket) {
        List<String> keys = new ArrayList<>();
        store.forEach(bucket, (k, v) -> keys.add(k));
        return keys;
    }
}
