package dev.iotjobs.localhub.c2d;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.HubStore.Bucket;

import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Durable cloud-to-device queues and the feedback queue: the only class that knows their keys and encodings.
 * {@code c2d: {deviceId}/{sequence, 20 digits}} holds a queued message and its delivery count (locks are not
 * stored: after a restart every message is enqueued again, as IoT Hub's lock would have expired);
 * {@code c2d_feedback: {sequence, 20 digits}} holds a feedback batch and its delivery count;
 * {@code c2d_feedback_records: {sequence, 20 digits}} a feedback record waiting for its batch.
 */
final class C2dStore {
    static final Bucket MESSAGES = new Bucket("c2d");
    static final Bucket FEEDBACK = new Bucket("c2d_feedback");
    static final Bucket FEEDBACK_RECORDS = new Bucket("c2d_feedback_records");
    private final HubStore store;

    C2dStore(HubStore store) {
        this.store = store;
    }

    private static String key(String deviceId, long sequence) {
        return deviceId + "/" + String.format("%020d", sequence);
    }

    /** Commits a message with its delivery count (blocking). */
    void save(C2dMessage m, int deliveryCount) {
        ObjectNode n = Json.object();
        n.put("seq", m.sequenceNumber());
        n.put("device", m.deviceId());
        n.put("mid", m.messageId());
        n.put("cid", m.correlationId());
        n.put("uid", m.userId());
        n.put("ct", m.contentType());
        n.put("ce", m.contentEncoding());
        n.put("ack", m.ack().wireName());
        ObjectNode props = n.putObject("props");
        m.properties().forEach(props::put);
        n.put("body", Base64.getEncoder().encodeToString(m.body()));
        n.put("enq", m.enqueuedTime().toEpochMilli());
        n.put("exp", m.expiryTime().toEpochMilli());
        n.put("dc", deliveryCount);
        store.put(MESSAGES, key(m.deviceId(), m.sequenceNumber()), Json.bytes(n));
    }

    /** Removes a message and commits (blocking). */
    void delete(C2dMessage m) {
        store.delete(MESSAGES, key(m.deviceId(), m.sequenceNumber()));
    }

    /** Visits every stored message with its delivery count, devices in key order, each queue in sequence order. */
    void loadAll(BiConsumer<C2dMessage, Integer> each) {
        store.forEach(MESSAGES, (key, bytes) -> {
            ObjectNode n = Json.readStored(bytes);
            Map<String, String> props = new LinkedHashMap<>();
            n.path("props").fields().forEachRemaining(e -> props.put(e.getKey(), e.getValue().asText()));
            C2dMessage m = new C2dMessage(n.get("seq").asLong(), n.get("device").asText(), Json.text(n, "mid"),
                    Json.text(n, "cid"), Json.text(n, "uid"), Json.text(n, "ct"), Json.text(n, "ce"),
                    C2dAck.parse(Json.text(n, "ack")), props, Base64.getDecoder().decode(n.get("body").asText()),
                    Instant.ofEpochMilli(n.get("enq").asLong()), Instant.ofEpochMilli(n.get("exp").asLong()));
            each.accept(m, n.get("dc").asInt());
        });
    }

    void saveFeedback(long sequence, FeedbackBatch batch) {
        ObjectNode n = Json.object();
        n.put("mid", batch.messageId());
        n.put("body", new String(batch.body(), StandardCharsets.UTF_8));
        n.put("enq", batch.enqueuedTime().toEpochMilli());
        n.put("dc", batch.deliveryCount());
        store.put(FEEDBACK, String.format("%020d", sequence), Json.bytes(n));
    }

    /** Commits a record waiting for its batch (blocking). */
    void saveRecord(long sequence, ObjectNode record) {
        store.put(FEEDBACK_RECORDS, String.format("%020d", sequence), Json.bytes(record));
    }

    void deleteRecord(long sequence) {
        store.delete(FEEDBACK_RECORDS, String.format("%020d", sequence));
    }

    /** Visits the records waiting for their batch, oldest first. */
    void loadRecords(BiConsumer<Long, ObjectNode> each) {
        store.forEach(FEEDBACK_RECORDS, (key, bytes) -> each.accept(Long.parseLong(key), Json.readStored(bytes)));
    }

    /** Commits a batch and removes the records it holds, in one commit (blocking). */
    void saveBatch(long sequence, FeedbackBatch batch, Collection<Long> records) {
        ObjectNode n = Json.object();
        n.put("mid", batch.messageId());
        n.put("body", new String(batch.body(), StandardCharsets.UTF_8));
        n.put("enq", batch.enqueuedTime().toEpochMilli());
        n.put("dc", batch.deliveryCount());
        List<HubStore.Write> writes = new ArrayList<>();
        writes.add(new HubStore.Write(FEEDBACK, String.format("%020d", sequence), Json.bytes(n)));
        for (long r : records) {
            writes.add(new HubStore.Write(FEEDBACK_RECORDS, String.format("%020d", r), null));
        }
        store.putAll(writes);
    }

    void deleteFeedback(long sequence) {
        store.delete(FEEDBACK, String.format("%020d", sequence));
    }

    void loadFeedback(Consumer<Map.Entry<Long, FeedbackBatch>> each) {
        store.forEach(FEEDBACK, (key, bytes) -> {
            ObjectNode n = Json.readStored(bytes);
            each.accept(Map.entry(Long.parseLong(key), new FeedbackBatch(null, Json.text(n, "mid"),
                    n.get("body").asText().getBytes(StandardCharsets.UTF_8),
                    Instant.ofEpochMilli(n.get("enq").asLong()), n.get("dc").asInt())));
        });
    }
}
