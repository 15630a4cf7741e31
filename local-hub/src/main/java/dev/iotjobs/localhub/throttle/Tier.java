package dev.iotjobs.localhub.throttle;

import java.util.Locale;

/**
 * The IoT Hub tiers whose quotas and throttles the local hub can apply (Microsoft's "IoT Hub quotas and
 * throttling" and "Choose the right IoT Hub tier and size" pages). Basic tiers are not offered: they have no
 * twins, methods or jobs, which is what this hub is for.
 */
public enum Tier {
    F1(1, 1, 8_000, 512),
    S1(200, 1, 400_000, 4096),
    S2(200, 5, 6_000_000, 4096),
    S3(10, 10, 300_000_000, 4096);

    private final int maxUnits;
    private final int maxActiveJobs;
    private final long messagesPerDayPerUnit;
    private final int meterBytes;

    Tier(int maxUnits, int maxActiveJobs, long messagesPerDayPerUnit, int meterBytes) {
        this.maxUnits = maxUnits;
        this.maxActiveJobs = maxActiveJobs;
        this.messagesPerDayPerUnit = messagesPerDayPerUnit;
        this.meterBytes = meterBytes;
    }

    public static Tier parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tier must be F1, S1, S2 or S3, not '" + text + "'");
        }
    }

    /** Checks a unit count against the tier's range (F1: 1; S1, S2: 1-200; S3: 1-10). */
    public void checkUnits(int units) {
        if (units < 1 || units > maxUnits) {
            throw new IllegalArgumentException("a " + this + " hub has 1" + (maxUnits > 1 ? "-" + maxUnits : "")
                    + " unit(s), not " + units);
        }
    }

    /** Jobs that may be active (scheduled, queued or running) at once: 1 on F1 and S1, 5 on S2, 10 on S3. */
    public int maxActiveJobs() {
        return maxActiveJobs;
    }

    /** The daily message quota of a hub with {@code units} units (F1: 8,000 for the hub). */
    public long messagesPerDay(int units) {
        return messagesPerDayPerUnit * units;
    }

    /** Size of one metered message: 4 KB, 0.5 KB on the free tier. */
    public int meterBytes() {
        return meterBytes;
    }
}
