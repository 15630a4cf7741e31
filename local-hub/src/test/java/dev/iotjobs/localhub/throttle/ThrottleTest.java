package dev.iotjobs.localhub.throttle;

import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The throttles of each tier on a fake clock: rates as the quotas page lists them, shaping, refusals, the daily quota. */
class ThrottleTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private static final Clock DAY = Clock.fixed(Instant.parse("2026-01-01T12:00:00Z"), ZoneOffset.UTC);

    @Test
    void rates_followTheQuotasPage() {
        assertEquals(10, Operation.JOB_DEVICE_OPERATIONS.perSecond(Tier.S1, 1));
        assertEquals(10, Operation.JOB_DEVICE_OPERATIONS.perSecond(Tier.S1, 5), "S1: 10/s whatever the units");
        assertEquals(12, Operation.JOB_DEVICE_OPERATIONS.perSecond(Tier.S2, 12), "S2: max(10/s, 1/s/unit)");
        assertEquals(100, Operation.JOB_DEVICE_OPERATIONS.perSecond(Tier.S3, 2), "S3: 50/s/unit");
        assertEquals(20 / 60.0, Operation.QUERIES.perSecond(Tier.S1, 1), 1e-9);
        assertEquals(2000 / 60.0, Operation.QUERIES.perSecond(Tier.S3, 2), 1e-9);
        assertEquals(40, Operation.DIRECT_METHODS.perSecond(Tier.S1, 1), "160 KB/s in 4 KB blocks");
        assertEquals(1, Tier.S1.maxActiveJobs());
        assertEquals(5, Tier.S2.maxActiveJobs());
        assertEquals(10, Tier.S3.maxActiveJobs());
        assertThrows(IllegalArgumentException.class, () -> Tier.S3.checkUnits(11));
        assertThrows(IllegalArgumentException.class, () -> Tier.F1.checkUnits(2));
    }

    @Test
    void jobPace_oneOperationPerTenthOfASecondOnS1_noBurst() {
        Throttle pace = HubThrottles.of(Tier.S1, 1, DAY, nanos::get).jobDeviceOperations();
        assertEquals(2, pace.acquireNow(1000), "two at once (one in hand against a late timer)");
        assertEquals(0, pace.acquireNow(1000));
        assertEquals(100_000_000L, pace.nanosUntilNext());
        nanos.addAndGet(100_000_000L);
        assertEquals(1, pace.acquireNow(1000), "the next one a tenth of a second later");
        nanos.addAndGet(150_000_000L);
        assertEquals(1, pace.acquireNow(1000), "a timer 50 ms late still gets its one ...");
        nanos.addAndGet(50_000_000L);
        assertEquals(1, pace.acquireNow(1000), "... and the next one is on time again");
        nanos.addAndGet(10_000_000_000L);
        assertEquals(2, pace.acquireNow(1000), "idle time is not made up for with a burst");
    }

    @Test
    void jobPace_S3_allowsATenthOfASecondsWorthAtOnce_toAbsorbTimerJitter() {
        Throttle pace = HubThrottles.of(Tier.S3, 2, DAY, nanos::get).jobDeviceOperations();
        assertEquals(10, pace.acquireNow(1000), "100/s: 10 at once");
        nanos.addAndGet(1_000_000_000L);
        assertEquals(10, pace.acquireNow(1000));
    }

    @Test
    void queries_minuteAllowanceAtOnce_thenDelayed_thenRefusedWith429001() {
        HubThrottles s1 = HubThrottles.of(Tier.S1, 1, DAY, nanos::get);
        for (int i = 0; i < 20; i++) {
            assertEquals(0, s1.admit(Operation.QUERIES, 1), "query " + i + " of the minute's 20");
        }
        assertEquals(3000, s1.admit(Operation.QUERIES, 1), "the 21st waits for its turn (20/min: one per 3 s)");
        assertEquals(6000, s1.admit(Operation.QUERIES, 1));
        assertEquals(9000, s1.admit(Operation.QUERIES, 1));
        HubException refused = assertThrows(HubException.class, () -> s1.admit(Operation.QUERIES, 1));
        assertEquals(ErrorCode.THROTTLING, refused.errorCode());
        assertEquals(429001, refused.errorCode().code());
        assertTrue(refused.getMessage().contains("Queries"), refused.getMessage());
        nanos.addAndGet(60_000_000_000L);
        assertEquals(0, s1.admit(Operation.QUERIES, 1), "a minute later the backlog has drained");
    }

    @Test
    void methods_areMeteredPer4KbBlock() {
        HubThrottles s1 = HubThrottles.of(Tier.S1, 1, DAY, nanos::get);
        assertEquals(0, s1.admit(Operation.DIRECT_METHODS, 32), "32 blocks = 128 KB fit the second's 40");
        assertTrue(s1.admit(Operation.DIRECT_METHODS, 32) > 0, "the next 128 KB waits");
    }

    @Test
    void dailyQuota_F1_8000Messages_then403002() {
        HubThrottles f1 = HubThrottles.of(Tier.F1, 1, DAY, nanos::get);
        assertEquals(1, f1.meteredMessages(100));
        assertEquals(3, f1.meteredMessages(1025), "0.5 KB blocks on the free tier");
        f1.charge(7999);
        f1.charge(1);
        HubException refused = assertThrows(HubException.class, () -> f1.charge(1));
        assertEquals(403002, refused.errorCode().code());
        assertEquals("IotHubQuotaExceeded", refused.errorCode().codeName());
    }

    @Test
    void untiered_admitsEverythingAtOnce() {
        HubThrottles none = HubThrottles.none();
        for (int i = 0; i < 10_000; i++) {
            assertEquals(0, none.admit(Operation.QUERIES, 1));
        }
        none.charge(1_000_000_000);
        assertEquals(null, none.jobDeviceOperations());
        assertEquals(7, none.maxActiveJobs(7));
    }

    @Test
    void deviceSide_ratesFollowTheQuotasPage() {
        assertEquals(100, Operation.DEVICE_CONNECTIONS.perSecond(Tier.F1, 1), "max(100/s, 12/s/unit)");
        assertEquals(108, Operation.DEVICE_TO_CLOUD_SENDS.perSecond(Tier.S1, 9), "9 x 12/s");
        assertEquals(240, Operation.DEVICE_CONNECTIONS.perSecond(Tier.S2, 2), "120/s/unit");
        assertEquals(100, Operation.CLOUD_TO_DEVICE_SENDS.perSecond(Tier.S1, 60), 1e-9, "100/min/unit");
        assertEquals(5000 / 60.0, Operation.CLOUD_TO_DEVICE_SENDS.perSecond(Tier.S3, 1), 1e-9);
        assertEquals(50, Operation.TWIN_UPDATES.perSecond(Tier.S1, 200), "S1: 50/s whatever the units");
    }

    @Test
    void deviceToCloud_aSecondsWorthPasses_thenShaped_thenRefusedWith429002() {
        HubThrottles s1 = HubThrottles.of(Tier.S1, 1, DAY, 1000, nanos::get);
        for (int i = 0; i < 100; i++) {
            assertEquals(0, s1.admit(Operation.DEVICE_TO_CLOUD_SENDS, 1, ErrorCode.THROTTLE_BACKLOG_LIMIT_EXCEEDED));
        }
        assertEquals(10, s1.admit(Operation.DEVICE_TO_CLOUD_SENDS, 1, ErrorCode.THROTTLE_BACKLOG_LIMIT_EXCEEDED),
                "the 101st waits 10 ms");
        for (int i = 0; i < 99; i++) {
            s1.admit(Operation.DEVICE_TO_CLOUD_SENDS, 1, ErrorCode.THROTTLE_BACKLOG_LIMIT_EXCEEDED);
        }
        HubException refused = assertThrows(HubException.class,
                () -> s1.admit(Operation.DEVICE_TO_CLOUD_SENDS, 1, ErrorCode.THROTTLE_BACKLOG_LIMIT_EXCEEDED));
        assertEquals(429002, refused.errorCode().code());
        assertEquals(0, s1.admit(Operation.DEVICE_CONNECTIONS, 1), "each class has its own budget");
    }

    @Test
    void saturate_refusesForAWhile_thenDelays() {
        HubThrottles s1 = HubThrottles.of(Tier.S1, 1, DAY, 1000, nanos::get);
        s1.saturate(Operation.TWIN_READS, 500);
        assertThrows(HubException.class, () -> s1.admit(Operation.TWIN_READS, 1));
        nanos.addAndGet(499_000_000L);
        assertThrows(HubException.class, () -> s1.admit(Operation.TWIN_READS, 1));
        nanos.addAndGet(2_000_000L);
        assertTrue(s1.admit(Operation.TWIN_READS, 1) > 900, "then delayed while the backlog drains");
        HubThrottles.none().saturate(Operation.TWIN_READS, 500);
        assertEquals(0, HubThrottles.none().admit(Operation.TWIN_READS, 1));
    }
}
