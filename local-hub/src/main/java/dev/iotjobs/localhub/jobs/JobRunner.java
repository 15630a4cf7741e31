package dev.iotjobs.localhub.jobs;

import dev.iotjobs.localhub.concurrent.Threads;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.concurrent.Futures;
import dev.iotjobs.localhub.device.TwinService;
import dev.iotjobs.localhub.method.MethodService;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.throttle.Throttle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs started jobs over their target devices with bounded parallelism and no thread per device:
 * twin jobs in batches (each batch one store commit holding the twins and their job records), method jobs
 * as at most {@link JobLimits#methodsInFlight()} asynchronous invocations. Every device's state change goes
 * through the {@link DeviceJobLedger}; this class only decides what runs when.
 * <p>
 * With a tier ({@link JobLimits#deviceOperations()}), device operations are paced at the tier's jobs
 * device operations rate, shared by every job of the hub: a batch or a pump takes only the operations the
 * pace allows now and comes back when the next one is due.
 */
final class JobRunner {
    private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);
    static final int TWIN_BATCH = 1000;
    private static final int TWIN_BATCHES_IN_FLIGHT = 4;

    private final DeviceJobLedger ledger;
    private final int methodsInFlight;
    private final Throttle pace;
    private final TwinService twins;
    private final MethodService methods;
    private final ExecutorService workers;
    private final ScheduledExecutorService timers;

    JobRunner(DeviceJobLedger ledger, TwinService twins, MethodService methods, JobExecutors executors,
              JobLimits limits) {
        this.ledger = ledger;
        this.methodsInFlight = limits.methodsInFlight();
        this.pace = limits.deviceOperations();
        this.twins = twins;
        this.methods = methods;
        this.workers = executors.workers;
        this.timers = executors.timers;
    }

    /** Starts (or resumes) processing every queued device of a running job. */
    void run(Job job) {
        if (job.progress().finished()) {
            ledger.completeIfFinished(job);
        } else if (job.definition.type() == JobType.TWIN) {
            runTwinJob(job);
        } else {
            schedulePump(job);
        }
    }

    /**
     * Twin jobs go through the queued devices in batches; a few batches are in flight at once, so while
     * one batch is being committed the next one is already computed.
     */
    private void runTwinJob(Job job) {
        JobProgress p = job.progress();
        Deque<Integer> queued = new ArrayDeque<>();
        for (int i = 0; i < p.size(); i++) {
            if (p.status(i) == DeviceJobStatus.QUEUED) {
                queued.add(i);
            }
        }
        for (int k = 0; k < TWIN_BATCHES_IN_FLIGHT; k++) {
            execute(() -> nextTwinBatch(job, queued));
        }
    }

    private void nextTwinBatch(Job job, Deque<Integer> queued) {
        if (job.stopped()) {
            return;
        }
        List<Integer> batch;
        synchronized (queued) {
            int size = Math.min(TWIN_BATCH, queued.size());
            if (size > 0 && pace != null) {
                size = pace.acquireNow(size);
                if (size == 0) {
                    later(pace.nanosUntilNext(), () -> nextTwinBatch(job, queued));
                    return;
                }
            }
            batch = new ArrayList<>(size);
            for (int k = 0; k < size; k++) {
                batch.add(queued.poll());
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        DeviceJobLedger.TwinBatchRecord record = ledger.startTwinBatch(job, batch);
        twins.patchMany(record.deviceIds(), job.definition.twinChange(), record)
                .thenAcceptAsync(missing -> ledger.twinBatchCommitted(record, missing), workers)
                .whenComplete((v, e) -> {
                    if (e != null) {
                        LOG.error("Twin job {} batch failed", job.id(), e);
                    }
                    execute(() -> nextTwinBatch(job, queued));
                });
    }

    /**
     * Schedules a pump on a worker unless one is already waiting to run: a thousand answers arriving together
     * wake one worker once, not a thousand times, and the pump then starts a thousand invocations.
     */
    private void schedulePump(Job job) {
        if (job.pumpScheduled.compareAndSet(false, true)) {
            execute(() -> pump(job));
        }
    }

    /** Starts method invocations until the in-flight limit (or the pace) is reached or no queued device is left. */
    private void pump(Job job) {
        job.pumpScheduled.set(false);
        int allowed = pace == null ? Integer.MAX_VALUE : pace.acquireNow(methodsInFlight);
        JobProgress p = job.progress();
        for (int i : ledger.claimForInvocation(job, allowed, methodsInFlight)) {
            long start = p.startMillis(i);
            methods.invoke(p.deviceIds[i], job.definition.method()).whenComplete((response, failure) -> {
                ledger.invocationEnded(job, i, failure == null ? DeviceJobStatus.COMPLETED : DeviceJobStatus.FAILED,
                        start, failure == null ? DeviceJobRecords.methodResult(response) : errorOf(failure));
                // Continue on a worker, never recursively: a thousand offline devices fail synchronously.
                schedulePump(job);
            });
        }
        if (pace != null && ledger.hasUnclaimed(job) && job.pumpScheduled.compareAndSet(false, true)) {
            later(pace.nanosUntilNext(), () -> pump(job));
        }
    }

    private static ObjectNode errorOf(Throwable failure) {
        Throwable cause = Futures.unwrap(failure);
        if (cause instanceof HubException h) {
            return DeviceJobRecords.errorResult(h.errorCode().codeName(), h.getMessage());
        }
        return DeviceJobRecords.errorResult("ServerError", String.valueOf(cause.getMessage()));
    }

    private void later(long nanos, Runnable task) {
        try {
            timers.schedule(() -> execute(task), Math.max(1, nanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("Hub is stopping: paced job work not scheduled");
        }
    }

    private void execute(Runnable task) {
        Threads.executeLogged(workers, task, LOG, "Job processing");
    }
}
