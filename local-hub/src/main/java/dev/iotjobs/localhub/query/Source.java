package dev.iotjobs.localhub.query;

/** The collection named in a query's FROM clause. */
public enum Source {
    /** {@code FROM devices}: device twins. */
    DEVICES,
    /** {@code FROM devices.modules}: module twins. */
    DEVICES_MODULES,
    /** {@code FROM devices.jobs}: per-device job records. */
    DEVICES_JOBS
}
