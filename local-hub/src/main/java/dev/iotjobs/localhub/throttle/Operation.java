package dev.iotjobs.localhub.throttle;

/**
 * IoT Hub's throttled operation classes and their rates per tier, as the "IoT Hub quotas and throttling"
 * page lists them ("/unit" rates multiply by the hub's units). Rates are per second here.
 */
public enum Operation {
    IDENTITY_REGISTRY("Identity registry operations", Window.MINUTE),
    DEVICE_CONNECTIONS("New device connections", Window.SECOND),
    DEVICE_TO_CLOUD_SENDS("Device-to-cloud sends", Window.SECOND),
    QUERIES("Queries", Window.MINUTE),
    /** Cloud-to-device messages the service sends (standard tiers). */
    CLOUD_TO_DEVICE_SENDS("Cloud-to-device sends", Window.MINUTE),
    /** Metered in 4 KB blocks of the request payload: one permit per started 4 KB. */
    DIRECT_METHODS("Direct methods", Window.SECOND),
    TWIN_READS("Twin reads", Window.SECOND),
    TWIN_UPDATES("Twin updates", Window.SECOND),
    JOBS_OPERATIONS("Jobs operations", Window.MINUTE),
    /** Twin updates and method calls made by jobs: paced by the hub, never refused. */
    JOB_DEVICE_OPERATIONS("Jobs device operations", Window.SECOND);

    /** How the docs state the limit: per minute (bursts of a minute's worth pass) or per second. */
    enum Window { SECOND, MINUTE }

    private final String docsName;
    private final Window window;

    Operation(String docsName, Window window) {
        this.docsName = docsName;
        this.window = window;
    }

    /** The operation class's name on the quotas page. */
    public String docsName() {
        return docsName;
    }

    Window window() {
        return window;
    }

    /** Operations (or, for direct methods, 4 KB blocks) per second on {@code tier} with {@code units} units. */
    public double perSecond(Tier tier, int units) {
        boolean s3 = tier == Tier.S3;
        boolean s2 = tier == Tier.S2;
        return switch (this) {
            case IDENTITY_REGISTRY, JOBS_OPERATIONS, CLOUD_TO_DEVICE_SENDS -> (s3 ? 5000 : 100) / 60.0 * units;
            case QUERIES -> (s3 ? 1000 : 20) / 60.0 * units;
            case DEVICE_CONNECTIONS, DEVICE_TO_CLOUD_SENDS -> s3 ? 6000.0 * units : s2 ? 120.0 * units
                    : Math.max(100, 12.0 * units);
            // 160 KB/s/unit on F1 and S1, 480 KB/s/unit on S2, 24 MB/s/unit on S3, in 4 KB blocks.
            case DIRECT_METHODS -> (s3 ? 24 * 1024 / 4.0 : s2 ? 120 : 40) * units;
            case TWIN_READS -> s3 ? 500.0 * units : s2 ? Math.max(100, 10.0 * units) : 100;
            case TWIN_UPDATES -> s3 ? 250.0 * units : s2 ? Math.max(50, 5.0 * units) : 50;
            case JOB_DEVICE_OPERATIONS -> s3 ? 50.0 * units : s2 ? Math.max(10, units) : 10;
        };
    }
}
