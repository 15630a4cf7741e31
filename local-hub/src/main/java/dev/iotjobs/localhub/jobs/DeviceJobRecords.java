package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.store.HubStore;

import java.time.Instant;
import java.util.List;

/**
 * Per-device job records: their store keys and documents, and the {@code devices.jobs} rows queries see.
 * Store keys in the DEVICE_JOBS bucket (stores of earlier versions also hold {@code r/<jobId>/<deviceId>},
 * one per device, still read): {@code o/<jobId>/<first index>} for the outcomes of devices that
 * finished in one group commit (method answers, failures, cancellations), {@code b/<jobId>/<first index>}
 * for a batch of devices a twin job completed together (one small document instead of a thousand,
 * committed with the batch's twins), and {@code t/<jobId>/<chunk>} for the job's target list (fixed when
 * the job starts).
 */
final class DeviceJobRecords {
    static final int TARGET_CHUNK = 10_000;

    private DeviceJobRecords() {
    }

    static String targetKey(String jobId, int chunk) {
        return String.format("t/%s/%06d", jobId, chunk);
    }

    /** The devices (by target position) a twin job completed in one batch, with the batch's times. */
    static HubStore.Write batchRecord(String jobId, int[] indices, long start, long end) {
        ObjectNode n = Json.object();
        n.put("st", start);
        n.put("et", end);
        com.fasterxml.jackson.databind.node.ArrayNode idx = n.putArray("idx");
        for (int i : indices) {
            idx.add(i);
        }
        String key = String.format("b/%s/%09d", jobId, indices.length == 0 ? 0 : indices[0]);
        return new HubStore.Write(HubStore.Bucket.DEVICE_JOBS, key, Json.bytes(n));
    }

    /** Applies a stored batch record to the progress of a reloaded job. */
    static void applyBatch(JobProgress progress, ObjectNode n) {
        long start = n.get("st").asLong();
        long end = n.get("et").asLong();
        for (JsonNode i : n.get("idx")) {
            progress.transition(i.asInt(), DeviceJobStatus.RUNNING, start, null);
            progress.transition(i.asInt(), DeviceJobStatus.COMPLETED, end, null);
        }
    }

    /** A device's final state within an {@link #outcomeBatch}. */
    record Outcome(int index, DeviceJobStatus status, long start, long end, ObjectNode result) {
    }

    /**
     * The final states of devices of one job, recorded together (one store document per group commit
     * instead of one per device). Keyed by the first target position: each device is recorded once per job,
     * so no two batches of a job share it.
     */
    static HubStore.Write outcomeBatch(String jobId, List<Outcome> outcomes) {
        com.fasterxml.jackson.databind.node.ArrayNode devices = Json.NODES.arrayNode();
        for (Outcome o : outcomes) {
            ObjectNode n = devices.addObject();
            n.put("i", o.index());
            n.put("s", o.status().ordinal());
            n.put("st", o.start());
            n.put("et", o.end());
            if (o.result() != null) {
                n.set("r", o.result());
            }
        }
        String key = String.format("o/%s/%09d", jobId, outcomes.get(0).index());
        return new HubStore.Write(HubStore.Bucket.DEVICE_JOBS, key, Json.bytes(Json.object().set("d", devices)));
    }

    /** Applies a stored outcome batch to the progress of a reloaded job. */
    static void applyOutcomes(JobProgress progress, ObjectNode batch) {
        for (JsonNode n : batch.get("d")) {
            applyDeviceRecord(progress, n.get("i").asInt(), n);
        }
    }

    /**
     * Applies one device's stored outcome ({@code s}, {@code st}, {@code et}, {@code r}); also reads the
     * per-device {@code r/<jobId>/<deviceId>} records that stores written by earlier versions hold.
     */
    static void applyDeviceRecord(JobProgress progress, Integer index, JsonNode n) {
        if (index == null || index < 0 || index >= progress.size()) {
            return;
        }
        JsonNode r = n.get("r");
        progress.transition(index, DeviceJobStatus.RUNNING, n.get("st").asLong(), null);
        progress.transition(index, DeviceJobStatus.ofOrdinal(n.get("s").asInt()), n.get("et").asLong(),
                r instanceof ObjectNode o ? o : null);
    }

    static ObjectNode methodResult(MethodResponse response) {
        ObjectNode r = Json.object();
        ObjectNode dmr = r.putObject("deviceMethodResponse");
        dmr.put("status", response.status());
        dmr.set("payload", response.payload());
        return r;
    }

    static ObjectNode errorResult(String code, String description) {
        ObjectNode r = Json.object();
        ObjectNode error = r.putObject("error");
        error.put("code", code);
        error.put("description", description);
        return r;
    }

    /** One {@code devices.jobs} row (field names of device rows: jobType, *Utc, *DateTimeUtc). */
    static ObjectNode row(Job job, JobProgress p, int i) {
        ObjectNode n = Json.object();
        n.put("deviceId", p.deviceIds[i]);
        n.put("jobId", job.id());
        n.put("jobType", job.definition.type().wireName());
        DeviceJobStatus status = p.status(i);
        n.put("status", status.wireName());
        Instant jobStart = job.runStarted != null ? job.runStarted : job.definition.startTime();
        long start = p.startMillis(i);
        long end = p.endMillis(i);
        n.put("startTimeUtc", Json.time(start == 0 ? jobStart : Instant.ofEpochMilli(start)));
        n.put("endTimeUtc", end == 0 ? Json.NEVER : Json.time(Instant.ofEpochMilli(end)));
        n.put("createdDateTimeUtc", Json.time(jobStart));
        n.put("lastUpdatedDateTimeUtc", Json.time(Instant.ofEpochMilli(Math.max(end, Math.max(start,
                jobStart.toEpochMilli())))));
        ObjectNode result = p.result(i);
        JsonNode response = result == null ? null : result.get("deviceMethodResponse");
        if (job.definition.type() == JobType.METHOD) {
            if (response != null) {
                n.putObject("outcome").set("deviceMethodResponse", response);
                // iot-service-client 2.1.9 builds getOutcomeResult() from this key, not from outcome.
                ObjectNode compat = n.putObject("cloudToDeviceMethod");
                compat.set("status", response.get("status"));
                compat.set("payload", response.get("payload"));
            }
        } else {
            n.putObject("outcome").putNull("deviceMethodResponse");
        }
        if (result != null && result.has("error")) {
            n.set("error", result.get("error"));
        }
        return n;
    }
}
