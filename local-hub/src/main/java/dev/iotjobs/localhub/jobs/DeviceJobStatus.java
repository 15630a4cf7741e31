package dev.iotjobs.localhub.jobs;

import java.util.Locale;

/**
 * Status of one device within a job. IoT Hub's own names for the first and last are "pending" and
 * "canceled", but iot-service-client 2.1.9 parses device rows with its job-status enum and throws on
 * those two, so rows carry "queued" and "cancelled" instead (the SDK source wins over the docs).
 */
public enum DeviceJobStatus {
    QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED;

    private static final DeviceJobStatus[] VALUES = values();

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean terminal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    static DeviceJobStatus ofOrdinal(int ordinal) {
        return VALUES[ordinal];
    }
}
