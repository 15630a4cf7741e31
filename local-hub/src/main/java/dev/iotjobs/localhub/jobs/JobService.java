package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.concurrent.Futures;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.TwinService;
import dev.iotjobs.localhub.method.MethodService;
import dev.iotjobs.localhub.model.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Scheduled jobs (jobs v2): create, get, cancel, list, and the per-device records behind
 * {@code FROM devices.jobs}. Arms the job timers and, through {@link JobRunner}, the fan-out; every status
 * change is one of {@link Job}'s transitions, stored through {@link JobStore}.
 * Jobs and records are durable: after a restart a scheduled job still starts on time, and a running job
 * resumes with the devices it had not finished.
 */
public final class JobService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobService.class);

    private final JobStore store;
    private final DeviceRegistry registry;
    private final Clock clock;
    private final int maxActiveJobs;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timers;
    private final ExecutorService workers;
    private final DeviceJobLedger ledger;
    private final JobRunner runner;

    /** Reloads the stored jobs and resumes them on {@code executors} (which the caller closes, after this). */
    public JobService(JobStore store, DeviceRegistry registry, TwinService twins, MethodService methods,
                      JobExecutors executors, JobLimits limits) {
        this.store = store;
        this.registry = registry;
        this.clock = registry.clock();
        this.maxActiveJobs = limits.maxActiveJobs();
        this.timers = executors.timers;
        this.workers = executors.workers;
        this.ledger = new DeviceJobLedger(store, clock, executors, this::allDevicesDone);
        this.runner = new JobRunner(ledger, twins, methods, executors, limits);
        load();
    }

    /** PUT /jobs/v2/{jobId}. */
    public ObjectNode create(String jobId, ObjectNode body) {
        Instant now = clock.instant();
        JobDefinition definition = JobDefinition.fromRequest(jobId, body, now);
        Job job = new Job(definition);
        synchronized (this) {
            if (jobs.containsKey(jobId)) {
                throw ErrorCode.JOB_ALREADY_EXISTS.exception("A job with ID '" + jobId + "' already exists.");
            }
            long active = jobs.values().stream().filter(Job::active).count();
            if (active >= maxActiveJobs) {
                throw ErrorCode.MAX_ACTIVE_JOBS.exception("This hub runs at most " + maxActiveJobs
                        + " active (scheduled, queued or running) job(s) at once; wait for one to end or cancel one.");
            }
            store.save(job);
            jobs.put(jobId, job);
        }
        // The answer is the job as created (queued): rendered before its timer is armed, because a job due
        // now may already be running on a worker by the time this thread renders it.
        ObjectNode created = job.toJson(now);
        schedule(job);
        return created;
    }

    public ObjectNode get(String jobId) {
        return find(jobId).toJson(clock.instant());
    }

    /** POST /jobs/v2/{jobId}/cancel: stops a job; devices not yet processed end as cancelled. */
    public ObjectNode cancel(String jobId) {
        Job job = find(jobId);
        if (!job.cancel(clock.instant(), () -> store.save(job))) {
            return job.toJson(clock.instant());
        }
        ledger.settleUnfinished(job, DeviceJobStatus.CANCELLED, false,
                DeviceJobRecords.errorResult("JobCancelled", "The job was cancelled before this device was processed."));
        return job.toJson(clock.instant());
    }

    /** GET /jobs/v2/query: newest first, optionally filtered by type and status. */
    public List<ObjectNode> list(String type, String status) {
        JobType t = type == null ? null : JobType.fromWire(type);
        if (status != null && JobStatus.fromWire(status) == null) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Job status '" + status + "' is invalid.");
        }
        Instant now = clock.instant();
        List<ObjectNode> result = new ArrayList<>();
        jobs.values().stream()
                .sorted(Comparator.comparing((Job j) -> j.definition.createdTime()).reversed())
                .filter(j -> t == null || j.definition.type() == t)
                .map(j -> j.toJson(now))
                .filter(n -> status == null || status.equals(n.get("status").asText()))
                .forEach(result::add);
        return result;
    }

    /** Every per-device record of every started job, as {@code devices.jobs} rows (oldest job first). */
    public Iterable<ObjectNode> deviceJobRows() {
        List<Job> started = jobs.values().stream().filter(j -> j.progress() != null)
                .sorted(Comparator.comparing(j -> j.definition.createdTime())).toList();
        return () -> new Iterator<>() {
            int jobIndex;
            int device;

            @Override
            public boolean hasNext() {
                while (jobIndex < started.size() && device >= started.get(jobIndex).progress().size()) {
                    jobIndex++;
                    device = 0;
                }
                return jobIndex < started.size();
            }

            @Override
            public ObjectNode next() {
                hasNext();
                Job job = started.get(jobIndex);
                return DeviceJobRecords.row(job, job.progress(), device++);
            }
        };
    }

    private Job find(String jobId) {
        Job job = jobId == null ? null : jobs.get(jobId);
        if (job == null) {
            throw ErrorCode.JOB_NOT_FOUND.exception("Job " + jobId + " not found.");
        }
        return job;
    }

    private void schedule(Job job) {
        long delay = Math.max(0, Duration.between(clock.instant(), job.definition.startTime()).toMillis());
        job.startTimer(timers.schedule(() -> workers.execute(() -> start(job)), delay, TimeUnit.MILLISECONDS));
    }

    /** The job's start time has come: select the devices (once) and start working on them. */
    private void start(Job job) {
        try {
            long t0 = System.nanoTime();
            // The selection scans every twin on all cores, like a query, in device id order: batches of
            // neighbouring ids then touch neighbouring store pages instead of scattered ones.
            String[] ids = registry.twinDocumentsInIdOrder().parallelStream()
                    .filter(job.definition.condition()::matches)
                    .map(twin -> twin.get("deviceId").asText())
                    .toArray(String[]::new);
            long t1 = System.nanoTime();
            CompletableFuture<Void> targetsStored = job.start(clock.instant(), new JobProgress(ids),
                    () -> store.saveStarted(job, ids));
            if (targetsStored == null) {
                return; // cancelled (or the hub stopped) meanwhile
            }
            armExpiry(job);
            // On a worker: failing the job stores it, and a store write must not wait on the thread that
            // completes store futures.
            targetsStored.whenCompleteAsync((v, e) -> {
                if (e != null) {
                    failToStart(job, e);
                }
            }, workers);
            LOG.info("Job {} ({}) started on {} device(s)", job.id(), job.definition.type().wireName(), ids.length);
            LOG.debug("Job {}: selection {} ms, target list {} ms", job.id(), (t1 - t0) / 1_000_000,
                    (System.nanoTime() - t1) / 1_000_000);
            runner.run(job);
        } catch (RuntimeException e) {
            failToStart(job, e);
        }
    }

    private void failToStart(Job job, Throwable e) {
        Throwable cause = Futures.unwrap(e);
        LOG.error("Job {} could not start", job.id(), cause);
        job.fail(cause.getMessage(), clock.instant(), () -> {
            try {
                store.save(job);
            } catch (RuntimeException again) {
                LOG.error("Job {}: its failure could not be stored either", job.id(), again);
            }
        });
    }

    private void armExpiry(Job job) {
        Instant deadline = job.runStarted().plusSeconds(job.definition.maxExecutionTimeSeconds());
        long delay = Math.max(0, Duration.between(clock.instant(), deadline).toMillis());
        job.expiryTimer(timers.schedule(() -> workers.execute(() -> expire(job)), delay, TimeUnit.MILLISECONDS));
    }

    /** maxExecutionTimeInSeconds elapsed: devices not done fail, and the job ends. */
    private void expire(Job job) {
        if (!job.expire("The job reached its maxExecutionTimeInSeconds ("
                + job.definition.maxExecutionTimeSeconds() + " s) before every device was processed.")) {
            return;
        }
        ledger.settleUnfinished(job, DeviceJobStatus.FAILED, true, DeviceJobRecords.errorResult(
                "JobRunTimeout", "The job's maximum execution time elapsed before this device finished."));
    }

    private void allDevicesDone(Job job) {
        if (job.complete(clock.instant(), () -> store.save(job))) {
            LOG.info("Job {} completed", job.id());
        }
    }

    /** Reloads jobs with their progress; re-arms timers and resumes running jobs. */
    private void load() {
        for (Job job : store.loadAll()) {
            jobs.put(job.id(), job);
            if (job.status() == JobStatus.QUEUED) {
                schedule(job);
            } else if (job.status() == JobStatus.RUNNING && job.progress() != null) {
                LOG.info("Resuming job {}: {} of {} device(s) left", job.id(),
                        job.progress().count(DeviceJobStatus.QUEUED), job.progress().size());
                armExpiry(job);
                workers.execute(() -> runner.run(job));
            }
        }
    }

    /**
     * Stops every job from starting new work and records the outcomes still lingering, so a restart does not
     * run those devices again; unfinished jobs resume at the next start. The executors are closed after this
     * by their owner.
     */
    @Override
    public void close() {
        jobs.values().forEach(Job::stop);
        ledger.flushNow();
    }
}
