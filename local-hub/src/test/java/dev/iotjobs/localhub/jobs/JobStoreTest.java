package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.MemoryHubStore;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    @Test
    void aTargetList_isStoredAsTheJsonArrayOfItsIds_byteForByte_andReadBackUnchanged() {
        // IoT Hub's device ids are ASCII letters, digits and a few symbols, but the encoding must not rely on it.
        String[] ids = {"plain-1", "quote\"d", "back\\slash", "ünïcødé-设备", "tab\tid", "ctl\u0001x", "last"};
        ArrayNode tree = Json.NODES.arrayNode();
        for (int i = 1; i < 6; i++) {
            tree.add(ids[i]);
        }

        byte[] stored = JobCodec.encodeTargets(ids, 1, 6);

        assertArrayEquals(Json.bytes(tree), stored);
        List<String> read = new ArrayList<>();
        JobCodec.decodeTargets(stored, read);
        assertEquals(List.of(ids).subList(1, 6), read);
        assertEquals("[]", new String(JobCodec.encodeTargets(ids, 3, 3), StandardCharsets.UTF_8));
    }

    @Test
    void twinBatchesAndOutcomes_areStoredInTheBytesTheirJsonTreesGive() {
        ObjectNode batch = Json.object().put("st", 1_700_000_000_123L).put("et", 1_700_000_000_456L);
        batch.putArray("idx").add(0).add(7).add(2_000_000_000);
        assertArrayEquals(Json.bytes(batch), JobStore.twinBatch("j", new int[]{0, 7, 2_000_000_000},
                1_700_000_000_123L, 1_700_000_000_456L).document());

        ObjectNode answer = Json.object();
        answer.putObject("deviceMethodResponse").put("status", 200).putObject("payload")
                .put("Response", "lockDoor \"called\" ✓").put("ratio", 0.25).put("exact", new BigDecimal("1.10"))
                .put("huge", new BigInteger("123456789012345678901234567890")).put("long", Long.MIN_VALUE)
                .putNull("none").putArray("a").add(true).add(-1.5e-30f);
        List<JobStore.Outcome> outcomes = List.of(
                new JobStore.Outcome(3, DeviceJobStatus.COMPLETED, 10, 20, answer),
                new JobStore.Outcome(4, DeviceJobStatus.FAILED, 11, 21,
                        DeviceJobRecords.errorResult("GatewayTimeout", "no answer")),
                new JobStore.Outcome(5, DeviceJobStatus.CANCELLED, 12, 22, null));
        ArrayNode devices = Json.NODES.arrayNode();
        for (JobStore.Outcome o : outcomes) {
            ObjectNode n = devices.addObject().put("i", o.index()).put("s", o.status().ordinal()).put("st", o.start())
                    .put("et", o.end());
            if (o.result() != null) {
                n.set("r", o.result());
            }
        }
        byte[] stored = JobCodec.encodeOutcomes(outcomes);
        assertArrayEquals(Json.bytes(Json.object().set("d", devices)), stored);

        JobProgress progress = new JobProgress(new String[]{"a", "b", "c", "d", "e", "f"});
        JobCodec.applyOutcomes(stored, progress);
        // Read back as any stored document reads (a decimal such as 1.10 comes back as 1.1, as before this writer).
        assertEquals(Json.readStored(Json.bytes(answer)).toString(), progress.result(3).toString());
        assertEquals(DeviceJobStatus.FAILED, progress.status(4));
        assertEquals(DeviceJobStatus.CANCELLED, progress.status(5));
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
