package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.MethodResponse;

import java.time.Instant;

/**
 * What a device's part in a job looks like to clients: its outcome ({@code deviceMethodResponse} or
 * {@code error}) and its {@code devices.jobs} row. How records are stored is {@link JobStore}'s business.
 */
final class DeviceJobRecords {
    private DeviceJobRecords() {
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
        Instant jobStart = job.runStarted() != null ? job.runStarted() : job.definition.startTime();
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
