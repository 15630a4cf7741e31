package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.concurrent.Futures;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.TwinService;
import dev.iotjobs.localhub.method.MethodService;
import dev.iotjobs.localhub.model.HubException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs started jobs over their target devices with bounded parallelism and no thread per device:
 * twin jobs in batches (each batch one store commit holding the twins and their job records), method jobs
 * as at most {@link JobLimits#methodsInFlight()} asynchronous invocations whose results are committed in groups.
 * A device counts as done only once its record is committed, so a restart never re-runs it.
 */
final class JobRunner {
    private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);
    static final int TWIN_BATCH = 1000;
    private static final int TWIN_BATCHES_IN_FLIGHT = 4;
    private static final int MAX_RECORDS_PER_COMMIT = 5000;
    /**
     * How long finished devices wait to be recorded together: one store commit for every answer of these
     * milliseconds rather than one per few answers (a commit has a fixed cost; answers arrive by thousands).
     */
    private static final long RECORD_LINGER_MILLIS = 20;

    private final JobStore store;
    private final int methodsInFlight;
    private final TwinService twins;
    private final MethodService methods;
    private final ExecutorService workers;
    private final ScheduledExecutorService timers;
    private final Clock clock;
    private final JobCompletion completion;
    private final Queue<Finished> finished = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private final Object flushLock = new Object();

    /** Called when a job has no queued or running device left. */
    interface JobCompletion {
        void allDevicesDone(Job job);
    }

    private record Finished(Job job, int index, DeviceJobStatus status, long start, long end, ObjectNode result) {
    }

    JobRunner(JobStore store, TwinService twins, MethodService methods, JobExecutors executors, int methodsInFlight,
              Clock clock, JobCompletion completion) {
        this.store = store;
        this.methodsInFlight = methodsInFlight;
        this.timers = executors.timers;
        this.twins = twins;
        this.methods = methods;
        this.workers = executors.workers;
        this.clock = clock;
        this.completion = completion;
    }

    /** Starts (or resumes) processing every queued device of a running job. */
    void run(Job job) {
        if (job.progress().finished()) {
            completion.allDevicesDone(job);
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
        Deque<List<Integer>> batches = new ArrayDeque<>();
        List<Integer> batch = new ArrayList<>(TWIN_BATCH);
        for (int i = 0; i < p.size(); i++) {
            if (p.status(i) == DeviceJobStatus.QUEUED) {
                batch.add(i);
                if (batch.size() == TWIN_BATCH) {
                    batches.add(batch);
                    batch = new ArrayList<>(TWIN_BATCH);
                }
            }
        }
        if (!batch.isEmpty()) {
            batches.add(batch);
        }
        for (int k = 0; k < TWIN_BATCHES_IN_FLIGHT; k++) {
            execute(() -> nextTwinBatch(job, batches));
        }
    }

    private void nextTwinBatch(Job job, Deque<List<Integer>> batches) {
        List<Integer> batch;
        synchronized (batches) {
            batch = batches.poll();
        }
        if (batch == null || job.stopped()) {
            return;
        }
        twinBatch(job, batch).whenComplete((v, e) -> {
            if (e != null) {
                LOG.error("Twin job {} batch failed", job.id(), e);
            }
            execute(() -> nextTwinBatch(job, batches));
        });
    }

    private CompletableFuture<Void> twinBatch(Job job, List<Integer> batch) {
        JobProgress p = job.progress();
        long start = clock.millis();
        List<String> ids = new ArrayList<>(batch.size());
        Map<String, Integer> index = new HashMap<>(batch.size() * 2);
        for (int i : batch) {
            if (p.transition(i, DeviceJobStatus.RUNNING, start, null)) {
                ids.add(p.deviceIds[i]);
                index.put(p.deviceIds[i], i);
            }
        }
        long[] end = new long[1];
        return twins.patchMany(ids, job.definition.twinChange(), updated -> {
            end[0] = clock.millis();
            int[] done = new int[updated.size()];
            for (int k = 0; k < done.length; k++) {
                done[k] = index.get(updated.get(k).id());
            }
            return List.of(JobStore.twinBatch(job.id(), done, start, end[0]));
        }).thenAcceptAsync(missing -> {
            Set<String> gone = new HashSet<>(missing);
            for (String id : ids) {
                if (!gone.contains(id)) {
                    p.transition(index.get(id), DeviceJobStatus.COMPLETED, end[0], null);
                }
            }
            for (String id : missing) {
                finish(job, index.get(id), DeviceJobStatus.FAILED, start,
                        DeviceJobRecords.errorResult("DeviceNotFound", "Device " + id + " no longer exists."));
            }
            if (p.finished()) {
                completion.allDevicesDone(job);
            }
        }, workers);
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

    /** Starts method invocations until the in-flight limit is reached or no queued device is left. */
    private void pump(Job job) {
        job.pumpScheduled.set(false);
        JobProgress p = job.progress();
        for (int i : job.claimForInvocation(methodsInFlight, clock.millis())) {
            long start = clock.millis();
            methods.invoke(p.deviceIds[i], job.definition.method()).whenComplete((response, failure) -> {
                job.invocationEnded();
                finish(job, i, failure == null ? DeviceJobStatus.COMPLETED : DeviceJobStatus.FAILED, start,
                        failure == null ? DeviceJobRecords.methodResult(response) : errorOf(failure));
                // Continue on a worker, never recursively: a thousand offline devices fail synchronously.
                schedulePump(job);
            });
        }
    }

    private static ObjectNode errorOf(Throwable failure) {
        Throwable cause = Futures.unwrap(failure);
        if (cause instanceof HubException h) {
            return DeviceJobRecords.errorResult(h.errorCode().codeName(), h.getMessage());
        }
        return DeviceJobRecords.errorResult("ServerError", String.valueOf(cause.getMessage()));
    }

    /** Records a device's final state: committed in a group with others, then applied in memory. */
    void finish(Job job, int index, DeviceJobStatus status, long start, ObjectNode result) {
        finished.add(new Finished(job, index, status, start, clock.millis(), result));
        if (flushScheduled.compareAndSet(false, true)) {
            try {
                timers.schedule(() -> execute(this::flush), RECORD_LINGER_MILLIS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                LOG.debug("Hub is stopping: job records not flushed");
            }
        }
    }

    /** Records every finished device now (on close: the linger timer no longer runs). */
    void flushNow() {
        while (!finished.isEmpty()) {
            flush();
        }
    }

    private void flush() {
        flushScheduled.set(false);
        // One flush at a time: a device's first outcome wins, and each device is recorded once per job.
        synchronized (flushLock) {
            List<Finished> batch = new ArrayList<>();
            Finished f;
            while (batch.size() < MAX_RECORDS_PER_COMMIT && (f = finished.poll()) != null) {
                batch.add(f);
            }
            if (batch.isEmpty()) {
                return;
            }
            Map<Job, List<JobStore.Outcome>> byJob = new LinkedHashMap<>();
            Set<String> seen = new HashSet<>();
            List<Finished> recorded = new ArrayList<>(batch.size());
            for (Finished x : batch) {
                // The first outcome of a device wins (a cancel may race with its method's answer).
                if (!x.job.progress().status(x.index).terminal() && seen.add(x.job.id() + "/" + x.index)) {
                    recorded.add(x);
                    byJob.computeIfAbsent(x.job, j -> new ArrayList<>())
                            .add(new JobStore.Outcome(x.index, x.status, x.start, x.end, x.result));
                }
            }
            store.saveOutcomes(byJob);
            for (Finished x : recorded) {
                x.job.progress().transition(x.index, x.status, x.end, x.result);
            }
            for (Job job : byJob.keySet()) {
                if (job.progress().finished()) {
                    completion.allDevicesDone(job);
                }
            }
        }
        if (!finished.isEmpty() && flushScheduled.compareAndSet(false, true)) {
            execute(this::flush);
        }
    }

    private void execute(Runnable task) {
        try {
            workers.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.error("Job processing failed", e);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("Hub is stopping: job work not started");
        }
    }

    /** Settles every device that has not finished yet (cancel, expiry). */
    void settleUnfinished(Job job, DeviceJobStatus status, boolean includeRunning, ObjectNode result) {
        JobProgress p = job.progress();
        if (p == null) {
            return;
        }
        long now = clock.millis();
        for (int i = 0; i < p.size(); i++) {
            DeviceJobStatus s = p.status(i);
            if (s == DeviceJobStatus.QUEUED || includeRunning && s == DeviceJobStatus.RUNNING) {
                finish(job, i, status, p.startMillis(i) == 0 ? now : p.startMillis(i), result);
            }
        }
    }

}
