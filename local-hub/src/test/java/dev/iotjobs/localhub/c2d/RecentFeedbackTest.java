package dev.iotjobs.localhub.c2d;

import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.DeviceStore;
import dev.iotjobs.localhub.device.RegistryService;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.store.MemoryHubStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The console's view of the feedback the hub produced: newest first, per device, bounded, with each batch's fate. */
class RecentFeedbackTest {
    private static final String KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    private final C2dQueuesTest.TestClock clock = new C2dQueuesTest.TestClock();
    private MemoryHubStore store;
    private DeviceRegistry registry;
    private C2dQueues queues;

    @BeforeEach
    void setUp() {
        store = new MemoryHubStore();
        registry = new DeviceRegistry(new DeviceStore(store), clock);
        registry.ensureDevice("d1", "gen-1", KEY, KEY);
        registry.ensureDevice("d2", "gen-2", KEY, KEY);
        queues = open(C2dSettings.DEFAULTS.withRecentFeedback(4));
    }

    private C2dQueues open(C2dSettings settings) {
        return new C2dQueues(store, registry, clock, settings.withFeedbackInterval(Duration.ofMinutes(1)));
    }

    @AfterEach
    void tearDown() {
        queues.close();
    }

    /** Sends a message asking for full feedback and lets the device complete (or reject) it. */
    private void delivered(String deviceId, String messageId, boolean reject) {
        queues.send(new C2dSend(deviceId, new byte[1], Map.of(), messageId, null, null, null, null, C2dAck.FULL, null));
        C2dDelivery d = queues.receive(deviceId, null);
        if (reject) {
            queues.reject(deviceId, d.lockToken());
        } else {
            queues.complete(deviceId, d.lockToken());
        }
    }

    private void batchInterval() {
        clock.advance(Duration.ofMinutes(1).plusSeconds(1));
        queues.sweep();
    }

    private static List<String> ids(List<FeedbackRecord> records) {
        return records.stream().map(FeedbackRecord::originalMessageId).toList();
    }

    @Test
    void newestFirst_ofOneDeviceOrAll_withIotHubsFields_andTheirBatchAsAReceiverSeesIt() {
        delivered("d1", "a", false);
        delivered("d2", "b", false);
        delivered("d1", "c", true);
        assertEquals(List.of("c", "a"), ids(queues.recentFeedback("d1", 10)));
        assertEquals(List.of("c", "b", "a"), ids(queues.recentFeedback(null, 10)));
        assertEquals(List.of("c"), ids(queues.recentFeedback("d1", 1)));
        FeedbackRecord rejected = queues.recentFeedback("d1", 1).get(0);
        assertEquals("Rejected", rejected.statusCode());
        assertEquals("d1", rejected.deviceId());
        assertEquals("gen-1", rejected.deviceGenerationId());
        assertEquals(FeedbackRecord.Batch.PENDING, rejected.batch(), "not in a batch before the interval");
        assertNull(rejected.batchId());

        batchInterval();
        FeedbackRecord a = queues.recentFeedback("d1", 10).get(1);
        assertEquals("Success", a.statusCode());
        assertEquals(FeedbackRecord.Batch.WAITING, a.batch());
        FeedbackBatch batch = queues.feedback().receive();
        assertEquals(batch.messageId(), a.batchId());
        assertEquals(FeedbackRecord.Batch.RECEIVED, queues.recentFeedback("d1", 10).get(1).batch());
        queues.feedback().abandon(batch.lockToken());
        FeedbackRecord abandoned = queues.recentFeedback("d1", 10).get(1);
        assertEquals(FeedbackRecord.Batch.WAITING, abandoned.batch());
        assertEquals(1, abandoned.batchDeliveryCount());
        queues.feedback().complete(queues.feedback().receive().lockToken());
        for (FeedbackRecord r : queues.recentFeedback(null, 10)) {
            assertEquals(FeedbackRecord.Batch.COMPLETED, r.batch(), r.toString());
        }
    }

    @Test
    void keepsOnlyTheNewestRecordsOfTheHub_andRefusesABadTop() {
        for (int i = 1; i <= 6; i++) {
            delivered(i % 2 == 0 ? "d2" : "d1", "m" + i, false);
        }
        assertEquals(List.of("m6", "m5", "m4", "m3"), ids(queues.recentFeedback(null, 100)), "bounded to 4");
        assertEquals(List.of("m5", "m3"), ids(queues.recentFeedback("d1", 100)));
        assertEquals(List.of(), ids(queues.recentFeedback("unknown", 100)));
        for (int top : new int[]{0, C2dQueues.MAX_FEEDBACK_RECORDS + 1}) {
            assertEquals(ErrorCode.ARGUMENT_INVALID, assertThrows(HubException.class,
                    () -> queues.recentFeedback(null, top)).errorCode());
        }
    }

    @Test
    void expiredAndDroppedBatchesAreShownSo() {
        delivered("d1", "unread", false);
        batchInterval();
        clock.advance(C2dSettings.DEFAULTS.feedbackTtl().plusSeconds(1));
        queues.sweep();
        assertEquals(FeedbackRecord.Batch.EXPIRED, queues.recentFeedback("d1", 1).get(0).batch());

        delivered("d1", "refused", false);
        batchInterval();
        for (int i = 0; i < 10; i++) {
            queues.feedback().abandon(queues.feedback().receive().lockToken());
        }
        FeedbackRecord dropped = queues.recentFeedback("d1", 1).get(0);
        assertEquals("refused", dropped.originalMessageId());
        assertEquals(FeedbackRecord.Batch.DROPPED, dropped.batch());
        assertEquals(0, queues.feedback().size());
    }

    @Test
    void aRestartShowsTheRecordsStillWaiting_andADeletedDevicesRecordsAreGone() {
        delivered("d1", "batched", false);
        batchInterval();
        delivered("d1", "pending", false);
        delivered("d2", "other", false);
        queues.close();
        queues = open(C2dSettings.DEFAULTS);
        List<FeedbackRecord> d1 = queues.recentFeedback("d1", 10);
        assertEquals(List.of("pending", "batched"), ids(d1));
        assertEquals(FeedbackRecord.Batch.PENDING, d1.get(0).batch());
        assertEquals(FeedbackRecord.Batch.WAITING, d1.get(1).batch());

        new RegistryService(registry).delete("d1", null);
        assertEquals(List.of("other"), ids(queues.recentFeedback(null, 10)));
    }
}
