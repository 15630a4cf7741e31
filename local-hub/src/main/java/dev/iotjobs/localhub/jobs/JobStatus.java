package dev.iotjobs.localhub.jobs;

import java.util.Locale;

/**
 * Job-level status, spelt as the service SDKs expect (lower case, double-L "cancelled"), and the job
 * lifecycle: {@code queued -> running -> completed | failed | cancelled}, and {@code queued -> failed |
 * cancelled} for a job that never starts. {@code scheduled} is only shown (a queued job whose start time is
 * in the future), never stored.
 */
public enum JobStatus {
    QUEUED, SCHEDULED, RUNNING, COMPLETED, FAILED, CANCELLED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean terminal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    /** Whether a job may move from this status to {@code next}: the whole state machine. */
    boolean canMoveTo(JobStatus next) {
        return switch (this) {
            case QUEUED, SCHEDULED -> next == RUNNING || next == FAILED || next == CANCELLED;
            case RUNNING -> next == COMPLETED || next == FAILED || next == CANCELLED;
            case COMPLETED, FAILED, CANCELLED -> false;
        };
    }

    public static JobStatus fromWire(String name) {
        for (JobStatus s : values()) {
            if (s.wireName().equals(name)) {
                return s;
            }
        }
        return null;
    }
}
