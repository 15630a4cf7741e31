package dev.iotjobs.localhub.c2d;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.DeviceStore;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.store.MemoryHubStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The queue's life cycle, limits and feedback, on a clock the test moves. */
class C2dQueuesTest {
    private static final String KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    /** A clock that moves only when told. */
    static final class TestClock extends Clock {
        volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }
    }

    private final TestClock clock = new TestClock();
    private MemoryHubStore store;
    private DeviceRegistry registry;
    private C2dQueues queues;

    @BeforeEach
    void setUp() {
        store = new MemoryHubStore();
        registry = new DeviceRegistry(new DeviceStore(store), clock);
        registry.ensureDevice("d1", "gen-1", KEY, KEY);
        queues = new C2dQueues(store, registry, clock, C2dSettings.DEFAULTS.withMaxDeliveryCount(3)
                .withFeedbackInterval(Duration.ofHours(1)));
    }

    @AfterEach
    void tearDown() {
        queues.close();
    }

    private C2dMessage send(String messageId, C2dAck ack) {
        return queues.send(new C2dSend("d1", messageId.getBytes(), Map.of(), messageId, null, null, null, null, ack, null));
    }

    @Test
    void fiftyFirstMessageIsRefused_tooLargeIsRefused_unknownDeviceIsRefused() {
        for (int i = 0; i < 50; i++) {
            send("m" + i, C2dAck.NONE);
        }
        assertEquals(ErrorCode.DEVICE_MAXIMUM_QUEUE_DEPTH_EXCEEDED,
                assertThrows(HubException.class, () -> send("m50", C2dAck.NONE)).errorCode());
        assertEquals(50, registry.find("d1").runtime().cloudToDeviceMessageCount());
        assertEquals(ErrorCode.MESSAGE_TOO_LARGE, assertThrows(HubException.class,
                () -> queues.send(C2dSend.of("d1", new byte[64 * 1024 + 1]))).errorCode());
        assertEquals(ErrorCode.DEVICE_NOT_FOUND, assertThrows(HubException.class,
                () -> queues.send(C2dSend.of("nobody", new byte[1]))).errorCode());
    }

    @Test
    void lockExpiryEnqueuesAgainWithoutCounting_abandonCounts_thirdAbandonDeadLetters() {
        send("m1", C2dAck.FULL);
        C2dDelivery first = queues.receive("d1", Duration.ofSeconds(60));
        assertEquals(0, first.deliveryCount());
        assertFalse(first.redelivered());
        assertNull(queues.receive("d1", Duration.ofSeconds(60)), "invisible while locked");
        clock.advance(Duration.ofSeconds(61));
        queues.sweep();
        C2dDelivery second = queues.receive("d1", Duration.ofSeconds(60));
        assertEquals(0, second.deliveryCount(), "a lost lock counts no delivery");
        assertTrue(second.redelivered());
        assertEquals(ErrorCode.DEVICE_MESSAGE_LOCK_LOST, assertThrows(HubException.class,
                () -> queues.complete("d1", first.lockToken())).errorCode());
        queues.abandon("d1", second.lockToken());
        queues.abandon("d1", queues.receive("d1", Duration.ofSeconds(60)).lockToken());
        C2dDelivery third = queues.receive("d1", Duration.ofSeconds(60));
        assertEquals(2, third.deliveryCount());
        queues.abandon("d1", third.lockToken());
        assertNull(queues.receive("d1", Duration.ofSeconds(60)), "dead-lettered after 3 deliveries");
        assertEquals(0, queues.depth("d1"));
        JsonNode records = flushFeedback();
        assertEquals(1, records.size());
        assertEquals("DeliveryCountExceeded", records.get(0).get("statusCode").asText());
    }

    @Test
    void feedbackRecordsAsIotHubSendsThem_onlyForTheAckModesThatAskForThem() {
        send("pos", C2dAck.POSITIVE);
        send("neg", C2dAck.NEGATIVE);
        send("full", C2dAck.FULL);
        send("none", C2dAck.NONE);
        for (int i = 0; i < 4; i++) {
            C2dDelivery d = queues.receive("d1", null);
            if (d.message().messageId().equals("full")) {
                queues.reject("d1", d.lockToken());
            } else {
                queues.complete("d1", d.lockToken());
            }
        }
        JsonNode records = flushFeedback();
        assertEquals(2, records.size(), records.toString()); // pos completed: Success; full rejected: Rejected
        JsonNode success = records.get(0);
        assertEquals("pos", success.get("originalMessageId").asText());
        assertEquals("Success", success.get("statusCode").asText());
        assertEquals("d1", success.get("deviceId").asText());
        assertEquals("gen-1", success.get("deviceGenerationId").asText());
        assertNotNull(success.get("enqueuedTimeUtc"));
        assertNotNull(success.get("description"));
        assertEquals("Rejected", records.get(1).get("statusCode").asText());
    }

    @Test
    void expiredMessagesAreDeadLettered_andPurgeEmptiesTheQueue() {
        queues.send(new C2dSend("d1", new byte[1], Map.of(), "short", null, null, null, null, C2dAck.NEGATIVE,
                clock.instant().plusSeconds(30)));
        send("default", C2dAck.NONE);
        clock.advance(Duration.ofSeconds(31));
        queues.sweep();
        assertEquals(1, queues.depth("d1"));
        assertEquals("Expired", flushFeedback().get(0).get("statusCode").asText());
        clock.advance(Duration.ofHours(1));
        queues.sweep();
        assertEquals(0, queues.depth("d1"), "the hub's default time to live is one hour");
        send("p1", C2dAck.NONE);
        send("p2", C2dAck.NONE);
        assertEquals(2, queues.purge("d1"));
        assertEquals(0, queues.depth("d1"));
        assertEquals(0, registry.find("d1").runtime().cloudToDeviceMessageCount());
    }

    @Test
    void feedbackBatchesAreLockedToOneReader_andAbandonPutsThemBack() {
        send("a", C2dAck.POSITIVE);
        queues.complete("d1", queues.receive("d1", null).lockToken());
        clock.advance(Duration.ofHours(2));
        queues.sweep(); // flushes the batch (interval passed)
        FeedbackQueue feedback = queues.feedback();
        FeedbackBatch batch = feedback.receive();
        assertNotNull(batch);
        assertNull(feedback.receive(), "locked to its reader");
        feedback.abandon(batch.lockToken());
        FeedbackBatch again = feedback.receive();
        assertEquals(batch.messageId(), again.messageId());
        assertEquals(ErrorCode.DEVICE_MESSAGE_LOCK_LOST, assertThrows(HubException.class,
                () -> feedback.complete(batch.lockToken())).errorCode());
        feedback.complete(again.lockToken());
        assertEquals(0, feedback.size());
    }

    @Test
    void messagesAndFeedbackSurviveARestartOfTheQueues_locksDoNot() {
        send("kept", C2dAck.FULL);
        send("done", C2dAck.FULL);
        C2dDelivery kept = queues.receive("d1", null);
        queues.complete("d1", queues.receive("d1", null).lockToken());
        assertEquals("kept", kept.message().messageId());
        queues.close();
        queues = new C2dQueues(store, registry, clock, C2dSettings.DEFAULTS.withFeedbackInterval(Duration.ofHours(1)));
        assertEquals(1, queues.depth("d1"));
        C2dDelivery again = queues.receive("d1", null);
        assertEquals("kept", again.message().messageId(), "the lock did not survive: enqueued again");
        assertNull(queues.receive("d1", null));
        queues.complete("d1", again.lockToken());
        JsonNode records = flushFeedback();
        assertEquals(2, records.size(), "the record waiting for its batch when the queues stopped was stored");
        assertEquals("done", records.get(0).get("originalMessageId").asText());
        assertEquals("kept", records.get(1).get("originalMessageId").asText());
    }

    @Test
    void feedbackOfADeletedDeviceIsDropped() {
        send("gone", C2dAck.POSITIVE);
        queues.complete("d1", queues.receive("d1", null).lockToken());
        registry.ensureDevice("d2", "gen-2", KEY, KEY);
        queues.send(new C2dSend("d2", new byte[1], Map.of(), "kept", null, null, null, null, C2dAck.POSITIVE, null));
        queues.complete("d2", queues.receive("d2", null).lockToken());
        queues.purge("d1");
        new dev.iotjobs.localhub.device.RegistryService(registry).delete("d1", null);
        JsonNode records = flushFeedback();
        assertEquals(1, records.size(), records.toString());
        assertEquals("d2", records.get(0).get("deviceId").asText());
    }

    /** Lets the feedback interval pass and reads the one batch it produced. */
    private JsonNode flushFeedback() {
        clock.advance(Duration.ofHours(1).plusSeconds(1));
        queues.sweep();
        FeedbackBatch batch = queues.feedback().receive();
        assertNotNull(batch, "a feedback batch");
        queues.feedback().complete(batch.lockToken());
        return Json.parse(batch.body());
    }
}
