package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;

import java.time.Instant;
import java.util.concurrent.ScheduledFuture;

/**
 * One scheduled job: its definition, its job-level state, and (once started) per-device progress.
 * Job-level fields change only under the job's monitor; readers see them through volatile fields.
 */
final class Job {
    final JobDefinition definition;
    volatile JobStatus status;
    volatile Instant runStarted;
    volatile Instant endTime;
    volatile String failureReason;
    volatile String statusMessage = "";
    volatile JobProgress progress;
    /** Set on cancel, expiry or shutdown: no new device is started after it. */
    volatile boolean stopped;
    ScheduledFuture<?> startTimer;
    ScheduledFuture<?> expiryTimer;
    /** Method jobs: next target position to look at, and invocations in flight (guarded by this). */
    int nextIndex;
    int inFlight;
    /** A pump of this (method) job is scheduled and has not started yet: completions need not schedule another. */
    final java.util.concurrent.atomic.AtomicBoolean pumpScheduled = new java.util.concurrent.atomic.AtomicBoolean();

    Job(JobDefinition definition, JobStatus status) {
        this.definition = definition;
        this.status = status;
    }

    String id() {
        return definition.jobId();
    }

    boolean active() {
        return !status.terminal();
    }

    /** The job as GET /jobs/v2/{id} returns it (field names of the job object, not of device rows). */
    ObjectNode toJson(Instant now) {
        ObjectNode n = Json.object();
        n.put("jobId", id());
        n.put("type", definition.type().wireName());
        JobStatus shown = status == JobStatus.QUEUED && definition.startTime().isAfter(now) ? JobStatus.SCHEDULED : status;
        n.put("status", shown.wireName());
        n.put("queryCondition", definition.queryCondition());
        n.put("createdTime", Json.time(definition.createdTime()));
        n.put("startTime", Json.time(definition.startTime()));
        if (endTime != null) {
            n.put("endTime", Json.time(endTime));
        }
        n.put("maxExecutionTimeInSeconds", definition.maxExecutionTimeSeconds());
        if (definition.method() != null) {
            n.set("cloudToDeviceMethod", definition.method().toJson());
        }
        if (definition.updateTwin() != null) {
            n.set("updateTwin", definition.updateTwin());
        }
        if (failureReason != null) {
            n.put("failureReason", failureReason);
        }
        n.put("statusMessage", statusMessage);
        ObjectNode stats = n.putObject("deviceJobStatistics");
        JobProgress p = progress;
        int[] s = p == null ? new int[5] : p.statistics();
        stats.put("deviceCount", s[0]);
        stats.put("failedCount", s[1]);
        stats.put("succeededCount", s[2]);
        stats.put("runningCount", s[3]);
        stats.put("pendingCount", s[4]);
        return n;
    }

    ObjectNode stored() {
        ObjectNode n = Json.object();
        n.set("request", definition.storedRequest());
        n.put("createdTime", definition.createdTime().toString());
        n.put("status", status.wireName());
        n.put("runStarted", runStarted == null ? null : runStarted.toString());
        n.put("endTime", endTime == null ? null : endTime.toString());
        n.put("failureReason", failureReason);
        n.put("statusMessage", statusMessage);
        return n;
    }

    static Job fromStored(ObjectNode n) {
        JobDefinition d = JobDefinition.fromStored((ObjectNode) n.get("request"),
                Instant.parse(n.get("createdTime").asText()));
        Job job = new Job(d, JobStatus.fromWire(n.get("status").asText()));
        String started = Json.text(n, "runStarted");
        job.runStarted = started == null ? null : Instant.parse(started);
        String end = Json.text(n, "endTime");
        job.endTime = end == null ? null : Instant.parse(end);
        job.failureReason = Json.text(n, "failureReason");
        job.statusMessage = n.path("statusMessage").asText("");
        return job;
    }
}
