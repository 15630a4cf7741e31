package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * One scheduled job: its definition, its job-level state, and (once started) per-device progress.
 * <p>
 * This class is the job's state machine and the only writer of its state: every status change goes through
 * {@link #moveTo} (checked by {@link JobStatus#canMoveTo}) under the job's monitor, and is handed to the
 * store before the monitor is released, so the store sees a job's changes in the order they happened
 * (a cancel racing with the start is never overwritten by the start's record). Readers see the fields
 * through volatiles, without locking.
 */
final class Job {
    final JobDefinition definition;
    private volatile JobStatus status;
    private volatile Instant runStarted;
    private volatile Instant endTime;
    private volatile String failureReason;
    private volatile String statusMessage = "";
    private volatile JobProgress progress;
    /** Set on cancel, failure, expiry or shutdown: no new device is started after it. */
    private volatile boolean stopped;
    private ScheduledFuture<?> startTimer;
    private ScheduledFuture<?> expiryTimer;
    /** Method jobs: where the fan-out stands (written by {@link DeviceJobLedger} only, under its monitor). */
    final Fanout fanout = new Fanout();
    /** A pump of this (method) job is scheduled and has not started yet: completions need not schedule another. */
    final AtomicBoolean pumpScheduled = new AtomicBoolean();

    Job(JobDefinition definition) {
        this(definition, JobStatus.QUEUED, null, null, null, "");
    }

    /** A job as stored (see {@link JobCodec}). */
    Job(JobDefinition definition, JobStatus status, Instant runStarted, Instant endTime, String failureReason,
        String statusMessage) {
        this.definition = definition;
        this.status = status;
        this.runStarted = runStarted;
        this.endTime = endTime;
        this.failureReason = failureReason;
        this.statusMessage = statusMessage;
    }

    String id() {
        return definition.jobId();
    }

    JobStatus status() {
        return status;
    }

    boolean active() {
        return !status.terminal();
    }

    boolean stopped() {
        return stopped;
    }

    Instant runStarted() {
        return runStarted;
    }

    Instant endTime() {
        return endTime;
    }

    String failureReason() {
        return failureReason;
    }

    String statusMessage() {
        return statusMessage;
    }

    /** Per-device progress, or null before the job started. */
    JobProgress progress() {
        return progress;
    }

    // ------------------------------------------------------------------ transitions

    private boolean moveTo(JobStatus next) {
        if (!status.canMoveTo(next)) {
            return false;
        }
        status = next;
        return true;
    }

    /**
     * queued -> running, with the selected targets; {@code persist} stores the job and its target list and
     * runs under the monitor. Returns the store's future, or null if the job was stopped meanwhile.
     */
    synchronized CompletableFuture<Void> start(Instant now, JobProgress targets, Supplier<CompletableFuture<Void>> persist) {
        if (stopped || !moveTo(JobStatus.RUNNING)) {
            return null;
        }
        runStarted = now;
        progress = targets;
        return persist.get();
    }

    /** A stored job's progress, rebuilt from its records at start-up (its status does not change). */
    synchronized void restoreProgress(JobProgress reloaded) {
        progress = reloaded;
    }

    /** running -> completed, once no device is queued or running; false if the job had already ended. */
    synchronized boolean complete(Instant now, Runnable persist) {
        if (!moveTo(JobStatus.COMPLETED)) {
            return false;
        }
        endTime = now;
        cancelTimers();
        persist.run();
        return true;
    }

    /** queued or running -> failed (the job could not start); false if it had already ended. */
    synchronized boolean fail(String reason, Instant now, Runnable persist) {
        stopped = true;
        if (!moveTo(JobStatus.FAILED)) {
            return false;
        }
        failureReason = reason;
        endTime = now;
        cancelTimers();
        persist.run();
        return true;
    }

    /** queued or running -> cancelled, by request; false if the job had already ended. */
    synchronized boolean cancel(Instant now, Runnable persist) {
        stopped = true;
        if (!moveTo(JobStatus.CANCELLED)) {
            return false;
        }
        endTime = now;
        statusMessage = "Cancelled by request.";
        cancelTimers();
        persist.run();
        return true;
    }

    /**
     * The job's time limit elapsed: no new device starts, and the unfinished ones fail; the job then
     * completes as usual (with this message). False if the job was not running.
     */
    synchronized boolean expire(String message) {
        if (status != JobStatus.RUNNING) {
            return false;
        }
        stopped = true;
        statusMessage = message;
        return true;
    }

    /** The hub is stopping: nothing new starts; the job resumes at the next start. */
    synchronized void stop() {
        stopped = true;
    }

    synchronized void startTimer(ScheduledFuture<?> timer) {
        startTimer = timer;
        if (stopped) {
            timer.cancel(false);
        }
    }

    synchronized void expiryTimer(ScheduledFuture<?> timer) {
        expiryTimer = timer;
        if (status.terminal()) {
            timer.cancel(false);
        }
    }

    private void cancelTimers() {
        if (startTimer != null) {
            startTimer.cancel(false);
        }
        if (expiryTimer != null) {
            expiryTimer.cancel(false);
        }
    }

    /** A method job's fan-out: the next target position to look at, and invocations in flight. */
    static final class Fanout {
        int next;
        int inFlight;
    }

    // ------------------------------------------------------------------ wire form

    /** The job as GET /jobs/v2/{id} returns it (field names of the job object, not of device rows). */
    ObjectNode toJson(Instant now) {
        ObjectNode n = Json.object();
        n.put("jobId", id());
        n.put("type", definition.type().wireName());
        JobStatus s = status;
        JobStatus shown = s == JobStatus.QUEUED && definition.startTime().isAfter(now) ? JobStatus.SCHEDULED : s;
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
        int[] counts = p == null ? new int[5] : p.statistics();
        stats.put("deviceCount", counts[0]);
        stats.put("failedCount", counts[1]);
        stats.put("succeededCount", counts[2]);
        stats.put("runningCount", counts[3]);
        stats.put("pendingCount", counts[4]);
        return n;
    }
}
