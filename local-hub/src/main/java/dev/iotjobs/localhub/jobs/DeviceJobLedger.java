package dev.iotjobs.localhub.jobs;

import dev.iotjobs.localhub.concurrent.Threads;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.device.BatchWrites;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.store.HubStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The only writer of per-device job state ({@link JobProgress}) and of the records that make it durable
 * ({@link JobStore}'s outcome and twin-batch records). Whoever runs a job asks it to move devices:
 * queued -> running when work on them starts, running -> an end when it ends, and unfinished -> an end on
 * cancel or expiry. A device counts as done only once its record is committed, so a restart never runs it
 * again; its first outcome wins (a cancel may race with a method's answer).
 * <p>
 * (At start-up {@link JobStore#loadAll} rebuilds a job's progress from these records before any job runs.)
 */
final class DeviceJobLedger {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceJobLedger.class);
    private static final int MAX_RECORDS_PER_COMMIT = 5000;
    /**
     * How long finished devices wait to be recorded together: one store commit for every answer of these
     * milliseconds rather than one per few answers (a commit has a fixed cost; answers arrive by thousands).
     */
    private static final long RECORD_LINGER_MILLIS = 20;

    private final JobStore store;
    private final Clock clock;
    private final ExecutorService workers;
    private final ScheduledExecutorService timers;
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

    DeviceJobLedger(JobStore store, Clock clock, JobExecutors executors, JobCompletion completion) {
        this.store = store;
        this.clock = clock;
        this.workers = executors.workers;
        this.timers = executors.timers;
        this.completion = completion;
    }

    /** A job whose devices are all done (e.g. resumed after its last record): completes it. */
    void completeIfFinished(Job job) {
        if (job.progress().finished()) {
            completion.allDevicesDone(job);
        }
    }

    // ------------------------------------------------------------------ method jobs

    /**
     * Claims up to {@code max} next queued devices of a method job, within {@code maxInFlight} invocations in
     * flight, marking them running; returns their target positions (none once the job is stopped).
     */
    int[] claimForInvocation(Job job, int max, int maxInFlight) {
        JobProgress p = job.progress();
        Job.Fanout f = job.fanout;
        long now = clock.millis();
        synchronized (f) {
            int[] claimed = new int[Math.max(0, Math.min(Math.min(max, maxInFlight - f.inFlight), p.size() - f.next))];
            int n = 0;
            while (!job.stopped() && n < claimed.length && f.next < p.size()) {
                int i = f.next++;
                if (p.transition(i, DeviceJobStatus.RUNNING, now, null)) {
                    f.inFlight++;
                    claimed[n++] = i;
                }
            }
            return n == claimed.length ? claimed : Arrays.copyOf(claimed, n);
        }
    }

    /** Whether a method job still has devices no invocation has been started for. */
    boolean hasUnclaimed(Job job) {
        synchronized (job.fanout) {
            return !job.stopped() && job.fanout.next < job.progress().size();
        }
    }

    /** One invocation of {@link #claimForInvocation} ended with {@code status} and {@code result}. */
    void invocationEnded(Job job, int index, DeviceJobStatus status, long start, ObjectNode result) {
        synchronized (job.fanout) {
            job.fanout.inFlight--;
        }
        finish(job, index, status, start, result);
    }

    // ------------------------------------------------------------------ twin jobs

    /** Marks a batch of a twin job's queued devices running; returns the batch's record to commit with its twins. */
    TwinBatchRecord startTwinBatch(Job job, List<Integer> batch) {
        JobProgress p = job.progress();
        long start = clock.millis();
        List<Integer> started = new ArrayList<>(batch.size());
        for (int i : batch) {
            if (p.transition(i, DeviceJobStatus.RUNNING, start, null)) {
                started.add(i);
            }
        }
        return new TwinBatchRecord(job, started, start);
    }

    /**
     * A twin batch's commit is done: the devices its record names are completed; those that no longer
     * existed fail (recorded with the next group of outcomes).
     */
    void twinBatchCommitted(TwinBatchRecord batch, List<String> missing) {
        JobProgress p = batch.job.progress();
        Set<String> gone = new HashSet<>(missing);
        for (int i : batch.indices) {
            if (!gone.contains(p.deviceIds[i])) {
                p.transition(i, DeviceJobStatus.COMPLETED, batch.end, null);
            } else {
                finish(batch.job, i, DeviceJobStatus.FAILED, batch.start, DeviceJobRecords.errorResult(
                        "DeviceNotFound", "Device " + p.deviceIds[i] + " no longer exists."));
            }
        }
        completeIfFinished(batch.job);
    }

    /**
     * The record of one twin-job batch: committed in the same store commit as the batch's twins, naming the
     * devices that commit changed (computed under their locks, so a device deleted meanwhile is not named).
     */
    final class TwinBatchRecord implements BatchWrites {
        private final Job job;
        private final List<Integer> indices;
        private final long start;
        private volatile long end;

        private TwinBatchRecord(Job job, List<Integer> indices, long start) {
            this.job = job;
            this.indices = indices;
            this.start = start;
        }

        /** The ids of the batch's devices, in batch order. */
        List<String> deviceIds() {
            List<String> ids = new ArrayList<>(indices.size());
            for (int i : indices) {
                ids.add(job.progress().deviceIds[i]);
            }
            return ids;
        }

        @Override
        public List<HubStore.Write> forChanged(List<Device> changed) {
            end = clock.millis();
            Set<String> ids = new HashSet<>(changed.size() * 2);
            for (Device d : changed) {
                ids.add(d.id());
            }
            int[] done = indices.stream().mapToInt(Integer::intValue)
                    .filter(i -> ids.contains(job.progress().deviceIds[i])).toArray();
            return List.of(JobStore.twinBatch(job.id(), done, start, end));
        }
    }

    // ------------------------------------------------------------------ outcomes

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
            byJob.keySet().forEach(this::completeIfFinished);
        }
        if (!finished.isEmpty() && flushScheduled.compareAndSet(false, true)) {
            execute(this::flush);
        }
    }

    private void execute(Runnable task) {
        Threads.executeLogged(workers, task, LOG, "Recording job outcomes");
    }
}
