package dev.iotjobs.localhub.jobs;

/**
 * @param maxActiveJobs   concurrent (non-terminal) jobs, as on an S3 IoT hub (10); more get 429004
 * @param methodsInFlight direct-method invocations one method job keeps in flight at most
 */
public record JobLimits(int maxActiveJobs, int methodsInFlight) {
    public JobLimits {
        if (maxActiveJobs < 1 || methodsInFlight < 1) {
            throw new IllegalArgumentException("job limits must be positive: " + maxActiveJobs + ", " + methodsInFlight);
        }
    }
}
