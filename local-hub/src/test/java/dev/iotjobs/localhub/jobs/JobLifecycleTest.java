package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.store.MemoryHubStore;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The job state machine: which transitions exist, and that each one is stored once and only if it happens. */
class JobLifecycleTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void statusGraph_queuedToRunningToAnEnd_andNothingAfterAnEnd() {
        assertTrue(JobStatus.QUEUED.canMoveTo(JobStatus.RUNNING));
        assertTrue(JobStatus.QUEUED.canMoveTo(JobStatus.CANCELLED));
        assertTrue(JobStatus.QUEUED.canMoveTo(JobStatus.FAILED));
        assertFalse(JobStatus.QUEUED.canMoveTo(JobStatus.COMPLETED));
        assertTrue(JobStatus.RUNNING.canMoveTo(JobStatus.COMPLETED));
        assertTrue(JobStatus.RUNNING.canMoveTo(JobStatus.FAILED));
        assertTrue(JobStatus.RUNNING.canMoveTo(JobStatus.CANCELLED));
        assertFalse(JobStatus.RUNNING.canMoveTo(JobStatus.QUEUED));
        for (JobStatus end : new JobStatus[]{JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}) {
            for (JobStatus next : JobStatus.values()) {
                assertFalse(end.canMoveTo(next), end + " -> " + next);
            }
        }
    }

    @Test
    void aRunningJob_completesOnce_andIsStoredOnce() {
        Job job = methodJob();
        AtomicInteger stored = new AtomicInteger();
        CompletableFuture<Void> started = job.start(NOW, new JobProgress(new String[]{"a"}),
                () -> {
                    stored.incrementAndGet();
                    return CompletableFuture.completedFuture(null);
                });
        assertTrue(started.isDone());
        assertEquals(JobStatus.RUNNING, job.status());
        assertTrue(job.complete(NOW, stored::incrementAndGet));
        assertFalse(job.complete(NOW, stored::incrementAndGet));
        assertFalse(job.cancel(NOW, stored::incrementAndGet), "a completed job is not cancelled");
        assertFalse(job.fail("late", NOW, stored::incrementAndGet), "nor failed");
        assertEquals(JobStatus.COMPLETED, job.status());
        assertEquals(2, stored.get());
    }

    @Test
    void aCancelledJob_neverStarts_andAFailureDoesNotOverwriteTheCancel() {
        Job job = methodJob();
        assertTrue(job.cancel(NOW, () -> { }));
        assertTrue(job.stopped());
        assertNull(job.start(NOW, new JobProgress(new String[]{"a"}), () -> {
            throw new AssertionError("a cancelled job must not be stored as started");
        }));
        assertFalse(job.fail("could not start", NOW, () -> { }));
        assertEquals(JobStatus.CANCELLED, job.status());
        assertEquals("Cancelled by request.", job.statusMessage());
    }

    @Test
    void expiry_stopsARunningJob_whichThenCompletesWithTheReason() {
        Job job = methodJob();
        assertFalse(job.expire("too late"), "only a running job expires");
        job.start(NOW, new JobProgress(new String[]{"a"}), () -> CompletableFuture.completedFuture(null));
        assertTrue(job.expire("too late"));
        assertTrue(job.stopped());
        try (JobExecutors executors = JobExecutors.start(1)) {
            DeviceJobLedger ledger = new DeviceJobLedger(new JobStore(new MemoryHubStore()), Clock.systemUTC(),
                    executors, j -> { });
            assertEquals(0, ledger.claimForInvocation(job, 10, 10).length, "no device starts after the expiry");
        }
        assertTrue(job.complete(NOW, () -> { }));
        assertEquals("too late", job.statusMessage());
    }

    private static Job methodJob() {
        ObjectNode body = Json.object();
        body.put("type", "scheduleDeviceMethod").put("queryCondition", "*");
        body.putObject("cloudToDeviceMethod").put("methodName", "lockDoor");
        return new Job(JobDefinition.fromRequest("lifecycle", body, NOW));
    }
}
