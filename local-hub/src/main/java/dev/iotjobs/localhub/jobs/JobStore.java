package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.HubStore.Bucket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The jobs' part of the {@link HubStore}, and the only class that knows its keys ({@link JobCodec} knows
 * the documents):
 * <pre>
 * JOBS         &lt;jobId&gt;                     the job: its request and job-level state
 * DEVICE_JOBS  t/&lt;jobId&gt;/&lt;chunk&gt;           the job's target list, {@value #TARGET_CHUNK} ids per chunk (fixed at start)
 *              o/&lt;jobId&gt;/&lt;first index&gt;     outcomes of devices that finished in one group commit
 *                                        (method answers, failures, cancellations)
 *              b/&lt;jobId&gt;/&lt;first index&gt;     a batch of devices a twin job completed together, committed
 *                                        with the batch's twins (one small document instead of a thousand)
 * </pre>
 * Record keys start with the first target position they hold: each device is recorded once per job, so no
 * two records of a job share a key.
 */
public final class JobStore {
    private static final Logger LOG = LoggerFactory.getLogger(JobStore.class);
    static final int TARGET_CHUNK = 10_000;

    private final HubStore store;

    /** A device's final state within one job, recorded with others of the same commit. */
    record Outcome(int index, DeviceJobStatus status, long start, long end, ObjectNode result) {
    }

    public JobStore(HubStore store) {
        this.store = store;
    }

    /** Stores a job's document and commits (blocking). */
    void save(Job job) {
        store.put(Bucket.JOBS, job.id(), JobCodec.encodeJob(job));
    }

    /**
     * Stores a job that has just started, with its target list, without waiting: the store commits in
     * submission order, so the list is durable before (or with) the first device record that refers to it.
     */
    CompletableFuture<Void> saveStarted(Job job, String[] targets) {
        List<HubStore.Write> writes = new ArrayList<>();
        for (int chunk = 0; chunk * TARGET_CHUNK < Math.max(1, targets.length); chunk++) {
            int end = Math.min(targets.length, (chunk + 1) * TARGET_CHUNK);
            writes.add(new HubStore.Write(Bucket.DEVICE_JOBS, targetKey(job.id(), chunk),
                    JobCodec.encodeTargets(targets, chunk * TARGET_CHUNK, end)));
        }
        writes.add(new HubStore.Write(Bucket.JOBS, job.id(), JobCodec.encodeJob(job)));
        return store.putAllAsync(writes);
    }

    /** The record of a twin-job batch, to be committed together with the batch's twins. */
    static HubStore.Write twinBatch(String jobId, int[] indices, long start, long end) {
        return new HubStore.Write(Bucket.DEVICE_JOBS, recordKey("b", jobId, indices.length == 0 ? 0 : indices[0]),
                JobCodec.encodeTwinBatch(indices, start, end));
    }

    /** Records finished devices of several jobs, one document per job, in one commit (blocking). */
    void saveOutcomes(Map<Job, List<Outcome>> byJob) {
        List<HubStore.Write> writes = new ArrayList<>(byJob.size());
        byJob.forEach((job, outcomes) -> writes.add(new HubStore.Write(Bucket.DEVICE_JOBS,
                recordKey("o", job.id(), outcomes.get(0).index()), JobCodec.encodeOutcomes(outcomes))));
        store.putAll(writes);
    }

    /** Every stored job; a started one with its progress rebuilt from its target list and records. */
    List<Job> loadAll() {
        List<Job> jobs = new ArrayList<>();
        store.forEach(Bucket.JOBS, (id, bytes) -> jobs.add(JobCodec.decodeJob(bytes)));
        Map<String, List<String>> targets = new HashMap<>();
        Map<String, List<byte[]>> outcomes = new HashMap<>();
        Map<String, List<byte[]>> batches = new HashMap<>();
        store.forEach(Bucket.DEVICE_JOBS, (key, bytes) -> {
            String[] parts = key.split("/", 3);
            String jobId = parts.length == 3 ? parts[1] : "";
            switch (parts[0]) {
                case "t" -> JobCodec.decodeTargets(bytes, targets.computeIfAbsent(jobId, k -> new ArrayList<>()));
                case "o" -> outcomes.computeIfAbsent(jobId, k -> new ArrayList<>()).add(bytes);
                case "b" -> batches.computeIfAbsent(jobId, k -> new ArrayList<>()).add(bytes);
                default -> LOG.warn("Ignoring an unknown job record {}", key);
            }
        });
        for (Job job : jobs) {
            List<String> ids = targets.get(job.id());
            if (ids != null && job.status() != JobStatus.QUEUED) {
                JobProgress progress = new JobProgress(ids.toArray(String[]::new));
                outcomes.getOrDefault(job.id(), List.of()).forEach(o -> JobCodec.applyOutcomes(o, progress));
                batches.getOrDefault(job.id(), List.of()).forEach(b -> JobCodec.applyTwinBatch(b, progress));
                job.restoreProgress(progress);
            }
        }
        return jobs;
    }

    static String targetKey(String jobId, int chunk) {
        return String.format("t/%s/%06d", jobId, chunk);
    }

    private static String recordKey(String kind, String jobId, int firstIndex) {
        return String.format("%s/%s/%09d", kind, jobId, firstIndex);
    }
}
