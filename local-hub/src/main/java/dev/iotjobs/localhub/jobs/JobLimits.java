package dev.iotjobs.localhub.jobs;

import dev.iotjobs.localhub.throttle.Throttle;

/**
 * @param maxActiveJobs    concurrent (non-terminal) jobs, as on an S3 IoT hub (10); more get 429004
 * @param methodsInFlight  direct-method invocations one method job keeps in flight at most
 * @param deviceOperations the tier's pace of jobs device operations (twin updates and method calls made by
 *                         jobs, shared by every job), or null to run them as fast as the hub can
 */
public record JobLimits(int maxActiveJobs, int methodsInFlight, Throttle deviceOperations) {
    public JobLimits {
        if (maxActiveJobs < 1 || methodsInFlight < 1) {
            throw new IllegalArgumentException("job limits must be positive: " + maxActiveJobs + ", " + methodsInFlight);
        }
    }

    /** Unpaced limits. */
    public JobLimits(int maxActiveJobs, int methodsInFlight) {
        this(maxActiveJobs, methodsInFlight, null);
    }
}
