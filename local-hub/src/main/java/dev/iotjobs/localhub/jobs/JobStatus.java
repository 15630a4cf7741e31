package dev.iotjobs.localhub.jobs;

import java.util.Locale;

/** Job-level status, spelt as the service SDKs expect (lower case, double-L "cancelled"). */
public enum JobStatus {
    QUEUED, SCHEDULED, RUNNING, COMPLETED, FAILED, CANCELLED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean terminal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
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
