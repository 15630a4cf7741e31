package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;

/** Waiting for scheduled jobs the way a back end does: poll {@code get()} until the job has ended. */
public final class Jobs {
    private Jobs() {
    }

    /** Polls every {@code pollMillis} until the job is completed, failed or cancelled, or fails after {@code millis}. */
    public static ScheduledJob awaitTerminal(ScheduledJobsClient jobs, String jobId, long millis, long pollMillis)
            throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            ScheduledJob job = jobs.get(jobId);
            ScheduledJobStatus s = job.getJobStatus();
            if (s == ScheduledJobStatus.completed || s == ScheduledJobStatus.failed || s == ScheduledJobStatus.cancelled) {
                return job;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("job " + jobId + " still " + s + " after " + millis + " ms");
            }
            Thread.sleep(pollMillis);
        }
    }
}
