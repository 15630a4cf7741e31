package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.MethodService;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.HubStore.Bucket;
import dev.iotjobs.localhub.device.TwinService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Scheduled jobs (jobs v2): create, get, cancel, list, and the per-device records behind
 * {@code FROM devices.jobs}. Owns the job timers and, through {@link JobRunner}, the fan-out.
 * Jobs and records are durable: after a restart a scheduled job still starts on time, and a running job
 * resumes with the devices it had not finished.
 */
public final class JobService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobService.class);

    private final HubStore store;
    private final DeviceRegistry registry;
    private final Clock clock;
    private final int maxActiveJobs;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timers;
    private final ExecutorService workers;
    private final JobRunner runner;

    public JobService(HubStore store, DeviceRegistry registry, TwinService twins, MethodService methods,
                      int maxActiveJobs) {
        this.store = store;
        this.registry = registry;
        this.clock = registry.clock();
        this.maxActiveJobs = maxActiveJobs;
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "local-hub-job-timers"));
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        this.workers = Executors.newFixedThreadPool(threads, r -> daemon(r, "local-hub-job-worker"));
        this.runner = new JobRunner(store, twins, methods, workers, timers, clock, this::allDevicesDone);
        load();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** PUT /jobs/v2/{jobId}. */
    public ObjectNode create(String jobId, ObjectNode body) {
        Instant now = clock.instant();
        JobDefinition definition = JobDefinition.fromRequest(jobId, body, now);
        Job job = new Job(definition, JobStatus.QUEUED);
        synchronized (this) {
            if (jobs.containsKey(jobId)) {
                throw ErrorCode.JOB_ALREADY_EXISTS.exception("A job with ID '" + jobId + "' already exists.");
            }
            long active = jobs.values().stream().filter(Job::active).count();
            if (active >= maxActiveJobs) {
                throw ErrorCode.MAX_ACTIVE_JOBS.exception("This hub runs at most " + maxActiveJobs
                        + " active jobs at once; wait for one to finish or cancel one.");
            }
            persist(job);
            jobs.put(jobId, job);
        }
        schedule(job);
        return job.toJson(now);
    }

    public ObjectNode get(String jobId) {
        return find(jobId).toJson(clock.instant());
    }

    /** POST /jobs/v2/{jobId}/cancel: stops a job; devices not yet processed end as cancelled. */
    public ObjectNode cancel(String jobId) {
        Job job = find(jobId);
        synchronized (job) {
            if (job.status.terminal()) {
                return job.toJson(clock.instant());
            }
            job.stopped = true;
            if (job.startTimer != null) {
                job.startTimer.cancel(false);
            }
            if (job.expiryTimer != null) {
                job.expiryTimer.cancel(false);
            }
            job.status = JobStatus.CANCELLED;
            job.endTime = clock.instant();
            job.statusMessage = "Cancelled by request.";
            persist(job);
        }
        runner.settleUnfinished(job, DeviceJobStatus.CANCELLED, false,
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
        List<Job> started = jobs.values().stream().filter(j -> j.progress != null)
                .sorted(Comparator.comparing(j -> j.definition.createdTime())).toList();
        return () -> new Iterator<>() {
            int jobIndex;
            int device;

            @Override
            public boolean hasNext() {
                while (jobIndex < started.size() && device >= started.get(jobIndex).progress.size()) {
                    jobIndex++;
                    device = 0;
                }
                return jobIndex < started.size();
            }

            @Override
            public ObjectNode next() {
                hasNext();
                Job job = started.get(jobIndex);
                return DeviceJobRecords.row(job, job.progress, device++);
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
        synchronized (job) {
            job.startTimer = timers.schedule(() -> workers.execute(() -> start(job)), delay, TimeUnit.MILLISECONDS);
        }
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
            java.util.concurrent.CompletableFuture<Void> targetsStored;
            synchronized (job) {
                if (job.stopped) {
                    return;
                }
                job.status = JobStatus.RUNNING;
                job.runStarted = clock.instant();
                List<HubStore.Write> writes = targetWrites(job.id(), ids);
                writes.add(jobWrite(job));
                // Not waited for: the store commits in submission order, so the target list is durable
                // before (or with) the first device record that refers to it.
                targetsStored = store.putAllAsync(writes);
                job.progress = new JobProgress(ids);
                armExpiry(job);
            }
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
        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        LOG.error("Job {} could not start", job.id(), cause);
        synchronized (job) {
            job.stopped = true;
            job.status = JobStatus.FAILED;
            job.failureReason = cause.getMessage();
            job.endTime = clock.instant();
            if (job.expiryTimer != null) {
                job.expiryTimer.cancel(false);
            }
            try {
                persist(job);
            } catch (RuntimeException again) {
                LOG.error("Job {}: its failure could not be stored either", job.id(), again);
            }
        }
    }

    private void armExpiry(Job job) {
        Instant deadline = job.runStarted.plusSeconds(job.definition.maxExecutionTimeSeconds());
        long delay = Math.max(0, Duration.between(clock.instant(), deadline).toMillis());
        job.expiryTimer = timers.schedule(() -> workers.execute(() -> expire(job)), delay, TimeUnit.MILLISECONDS);
    }

    /** maxExecutionTimeInSeconds elapsed: devices not done fail, and the job ends. */
    private void expire(Job job) {
        synchronized (job) {
            if (job.status != JobStatus.RUNNING) {
                return;
            }
            job.stopped = true;
            job.statusMessage = "The job reached its maxExecutionTimeInSeconds ("
                    + job.definition.maxExecutionTimeSeconds() + " s) before every device was processed.";
        }
        runner.settleUnfinished(job, DeviceJobStatus.FAILED, true, DeviceJobRecords.errorResult(
                "JobRunTimeout", "The job's maximum execution time elapsed before this device finished."));
    }

    private void allDevicesDone(Job job) {
        synchronized (job) {
            if (job.status != JobStatus.RUNNING) {
                return;
            }
            job.status = JobStatus.COMPLETED;
            job.endTime = clock.instant();
            if (job.expiryTimer != null) {
                job.expiryTimer.cancel(false);
            }
            persist(job);
        }
        LOG.info("Job {} completed", job.id());
    }

    private void persist(Job job) {
        store.put(Bucket.JOBS, job.id(), Json.bytes(job.stored()));
    }

    private static HubStore.Write jobWrite(Job job) {
        return new HubStore.Write(Bucket.JOBS, job.id(), Json.bytes(job.stored()));
    }

    private static List<HubStore.Write> targetWrites(String jobId, String[] ids) {
        List<HubStore.Write> writes = new ArrayList<>();
        for (int chunk = 0; chunk * DeviceJobRecords.TARGET_CHUNK < Math.max(1, ids.length); chunk++) {
            ArrayNode array = Json.NODES.arrayNode();
            int end = Math.min(ids.length, (chunk + 1) * DeviceJobRecords.TARGET_CHUNK);
            for (int i = chunk * DeviceJobRecords.TARGET_CHUNK; i < end; i++) {
                array.add(ids[i]);
            }
            writes.add(new HubStore.Write(Bucket.DEVICE_JOBS, DeviceJobRecords.targetKey(jobId, chunk), Json.bytes(array)));
        }
        return writes;
    }

    /** Reloads jobs, target lists and device records; re-arms timers and resumes running jobs. */
    private void load() {
        store.forEach(Bucket.JOBS, (id, bytes) -> jobs.put(id, Job.fromStored(Json.readStored(bytes))));
        Map<String, List<String>> targets = new HashMap<>();
        Map<String, List<ObjectNode>> outcomes = new HashMap<>();
        Map<String, Map<String, ObjectNode>> deviceRecords = new HashMap<>(); // r/: one per device, older stores
        Map<String, List<ObjectNode>> batches = new HashMap<>();
        store.forEach(Bucket.DEVICE_JOBS, (key, bytes) -> {
            String[] parts = key.split("/", 3);
            switch (parts[0]) {
                case "b" -> batches.computeIfAbsent(parts[1], k -> new ArrayList<>()).add(Json.readStored(bytes));
                case "o" -> outcomes.computeIfAbsent(parts[1], k -> new ArrayList<>()).add(Json.readStored(bytes));
                case "t" -> Json.readStoredArray(bytes).forEach(n -> targets.computeIfAbsent(parts[1], k -> new ArrayList<>()).add(n.asText()));
                case "r" -> deviceRecords.computeIfAbsent(parts[1], k -> new HashMap<>()).put(parts[2], Json.readStored(bytes));
                default -> LOG.warn("Ignoring an unknown job record {}", key);
            }
        });
        for (Job job : jobs.values()) {
            List<String> ids = targets.get(job.id());
            if (ids != null && job.status != JobStatus.QUEUED) {
                job.progress = new JobProgress(ids.toArray(String[]::new));
                outcomes.getOrDefault(job.id(), List.of()).forEach(batch -> DeviceJobRecords.applyOutcomes(job.progress, batch));
                Map<String, ObjectNode> old = deviceRecords.getOrDefault(job.id(), Map.of());
                if (!old.isEmpty()) {
                    Map<String, Integer> index = job.progress.indexById();
                    old.forEach((device, record) -> DeviceJobRecords.applyDeviceRecord(job.progress, index.get(device), record));
                }
                batches.getOrDefault(job.id(), List.of()).forEach(batch -> DeviceJobRecords.applyBatch(job.progress, batch));
            }
            if (job.status == JobStatus.QUEUED) {
                schedule(job);
            } else if (job.status == JobStatus.RUNNING && job.progress != null) {
                LOG.info("Resuming job {}: {} of {} device(s) left", job.id(),
                        job.progress.count(DeviceJobStatus.QUEUED), job.progress.size());
                synchronized (job) {
                    armExpiry(job);
                }
                workers.execute(() -> runner.run(job));
            }
        }
    }

    /** Stops timers and lets committed work finish; unfinished jobs resume at the next start. */
    @Override
    public void close() {
        jobs.values().forEach(j -> j.stopped = true);
        timers.shutdownNow();
        runner.flushNow(); // outcomes still lingering are recorded, so a restart does not run those devices again
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("Job workers did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
