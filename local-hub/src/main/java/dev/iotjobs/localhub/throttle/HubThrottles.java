package dev.iotjobs.localhub.throttle;

import dev.iotjobs.localhub.model.ErrorCode;

import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The quotas and throttles of one IoT Hub tier and unit count, or none (the default: the local hub runs as
 * fast as it can). One {@link Throttle} per operation class of the "IoT Hub quotas and throttling" page, asked by
 * the REST adapter for service requests and by the device edge for what devices do (new connections,
 * device-to-cloud sends, twin reads and updates, which share the twin throttles with the service side):
 * <ul>
 *   <li>classes stated per minute let a minute's worth pass at once, classes stated per second a second's
 *       worth; beyond that an operation is delayed until it conforms (traffic shaping), and refused with
 *       429001 ThrottlingException (device-to-cloud sends: 429002 ThrottleBacklogLimitExceeded) when it
 *       would wait longer than the backlog ({@link #BACKLOG_MILLIS} unless configured);</li>
 *   <li>jobs device operations are paced by the hub itself at the tier's rate (a tenth of a second's worth at
 *       once, at least 2), never refused;</li>
 *   <li>the daily message quota (metered operations, one message per started meter block) is refused with
 *       403002 IotHubQuotaExceeded once used up, until 00:00 UTC.</li>
 * </ul>
 * Every adapter asks this class; none keeps a limit of its own.
 */
public final class HubThrottles {
    /** How long an over-limit operation may wait for its turn before it is refused, unless configured. */
    public static final long BACKLOG_MILLIS = 10_000;
    /**
     * The header the hub's web console puts on its REST calls: they are not counted (the console polls every
     * second, which would use up an S1 hub's queries and throttle the application being watched).
     */
    public static final String CONSOLE_CALL_HEADER = "x-local-hub-console";
    private static final HubThrottles NONE = new HubThrottles(null, 0, Map.of(), null);

    private final Tier tier;
    private final int units;
    private final Map<Operation, Throttle> throttles;
    private final Clock clock;
    private long quotaDay;
    private long quotaUsed;

    private HubThrottles(Tier tier, int units, Map<Operation, Throttle> throttles, Clock clock) {
        this.tier = tier;
        this.units = units;
        this.throttles = throttles;
        this.clock = clock;
    }

    /** No limits (the default). */
    public static HubThrottles none() {
        return NONE;
    }

    /** The limits of {@code tier} with {@code units} units. */
    public static HubThrottles of(Tier tier, int units, Clock clock) {
        return of(tier, units, clock, BACKLOG_MILLIS, System::nanoTime);
    }

    /** The limits of {@code tier} with {@code units} units, refusing what would wait over {@code backlogMillis}. */
    public static HubThrottles of(Tier tier, int units, Clock clock, long backlogMillis) {
        return of(tier, units, clock, backlogMillis, System::nanoTime);
    }

    static HubThrottles of(Tier tier, int units, Clock clock, LongSupplier nanoTime) {
        return of(tier, units, clock, BACKLOG_MILLIS, nanoTime);
    }

    static HubThrottles of(Tier tier, int units, Clock clock, long backlogMillis, LongSupplier nanoTime) {
        tier.checkUnits(units);
        Map<Operation, Throttle> throttles = new EnumMap<>(Operation.class);
        for (Operation op : Operation.values()) {
            double rate = op.perSecond(tier, units);
            if (op == Operation.JOB_DEVICE_OPERATIONS) {
                // Paced, not bursty: a tenth of a second's worth at once, at least 2, so that a timer firing a little
                // late is made up for (with 1, each late wake-up was lost: 1,000 devices took 104-107 s on S1).
                throttles.put(op, new Throttle(rate, (int) Math.max(2, rate / 10), Long.MAX_VALUE / 2_000_000, nanoTime));
            } else {
                int burst = (int) Math.max(1, Math.floor(rate * (op.window() == Operation.Window.MINUTE ? 60 : 1)));
                throttles.put(op, new Throttle(rate, burst, backlogMillis, nanoTime));
            }
        }
        return new HubThrottles(tier, units, throttles, clock);
    }

    /** True when none of these classes has anything reserved ahead (each could take a whole burst now). */
    public boolean isIdle(Operation... ops) {
        for (Operation op : ops) {
            Throttle t = throttles.get(op);
            if (t != null && !t.isIdle()) {
                return false;
            }
        }
        return true;
    }

    public boolean enabled() {
        return tier != null;
    }

    /** The tier, or null without limits. */
    public Tier tier() {
        return tier;
    }

    public int units() {
        return units;
    }

    /** E.g. "S1 x 1 unit"; "untiered" without limits. */
    public String describe() {
        return tier == null ? "untiered" : tier + " x " + units + (units == 1 ? " unit" : " units");
    }

    /** Rate of an operation class, or 0 without limits. */
    public double perSecond(Operation op) {
        Throttle t = throttles.get(op);
        return t == null ? 0 : t.perSecond();
    }

    /** The hub's pacing of job device operations, or null without limits. */
    public Throttle jobDeviceOperations() {
        return throttles.get(Operation.JOB_DEVICE_OPERATIONS);
    }

    /** Active jobs allowed at once: the tier's, or {@code untiered} without limits. */
    public int maxActiveJobs(int untiered) {
        return tier == null ? untiered : tier.maxActiveJobs();
    }

    /**
     * Admits {@code permits} operations of a class: returns after how many milliseconds they may proceed
     * (0: now).
     *
     * @throws dev.iotjobs.localhub.model.HubException 429001 when the wait would exceed the backlog
     */
    public long admit(Operation op, int permits) {
        return admit(op, permits, ErrorCode.THROTTLING);
    }

    /**
     * As {@link #admit(Operation, int)}, refusing with {@code refusal}: 429002 ThrottleBacklogLimitExceeded for
     * device-to-cloud sends (the code IoT Hub records when it closes an over-limit device's connection), 429001
     * ThrottlingException for the rest.
     */
    public long admit(Operation op, int permits, ErrorCode refusal) {
        Throttle t = throttles.get(op);
        if (t == null) {
            return 0;
        }
        long delay = t.reserve(Math.max(1, permits));
        if (delay < 0) {
            throw refusal.exception("IoT Hub throttling limits have been exceeded: " + op.docsName()
                    + " on a " + describe() + " hub are limited to " + rate(t.perSecond())
                    + "; retry later with a back-off (see the \"IoT Hub quotas and throttling\" page).");
        }
        return (delay + 999_999) / 1_000_000;
    }

    /**
     * Fault injection for tests and demonstrations: fills an operation class's backlog as a flood of other clients
     * would, so that for the next {@code millis} every operation of the class is refused and then delayed until
     * the backlog has drained. Without a tier: nothing.
     */
    public void saturate(Operation op, long millis) {
        Throttle t = throttles.get(op);
        if (t != null) {
            t.saturate(millis);
        }
    }

    /** Messages of {@code bytes} as the daily quota meters them (at least one). */
    public int meteredMessages(long bytes) {
        return tier == null ? 0 : (int) Math.max(1, (bytes + tier.meterBytes() - 1) / tier.meterBytes());
    }

    /**
     * Charges {@code messages} to the daily quota.
     *
     * @throws dev.iotjobs.localhub.model.HubException 403002 once the day's quota is used up
     */
    public synchronized void charge(int messages) {
        if (tier == null || messages <= 0) {
            return;
        }
        long today = LocalDate.now(clock.withZone(ZoneOffset.UTC)).toEpochDay();
        if (today != quotaDay) {
            quotaDay = today;
            quotaUsed = 0;
        }
        long quota = tier.messagesPerDay(units);
        if (quotaUsed + messages > quota) {
            throw ErrorCode.IOTHUB_QUOTA_EXCEEDED.exception("The " + describe() + " hub's daily quota of " + quota
                    + " messages is used up; it resets at 00:00 UTC (see the \"IoT Hub quotas and throttling\" page).");
        }
        quotaUsed += messages;
    }

    private static String rate(double perSecond) {
        return perSecond >= 5 ? String.format("%.0f/s", perSecond) : String.format("%.0f/min", perSecond * 60);
    }
}
