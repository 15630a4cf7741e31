package dev.iotjobs.localhub.rest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.auth.Permission;
import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.c2d.C2dAck;
import dev.iotjobs.localhub.c2d.C2dMessage;
import dev.iotjobs.localhub.c2d.C2dMessageState;
import dev.iotjobs.localhub.c2d.C2dQueues;
import dev.iotjobs.localhub.c2d.C2dSend;
import dev.iotjobs.localhub.c2d.FeedbackRecord;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.json.Json;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Cloud-to-device messages over REST: {@code DELETE /devices/{id}/commands} purges a device's queue, as IoT Hub's
 * "Cloud To Device Messages - Purge Cloud To Device Message Queue" does. Sending is AMQP-only on IoT Hub, and it
 * has no API to look into a queue: {@code GET} and {@code POST /local-hub/devices/{id}/messages} are this hub's
 * own (for its console), under a prefix IoT Hub does not use, as is {@code GET /local-hub/feedback?deviceId=&top=}:
 * the newest feedback records the hub produced (IoT Hub shows them only to feedback receivers).
 */
final class CloudToDeviceRoutes {
    private static final int DEFAULT_FEEDBACK_TOP = 20;
    private final RestSupport rest;
    private final C2dQueues queues;

    CloudToDeviceRoutes(RestSupport rest, C2dQueues queues) {
        this.rest = rest;
        this.queues = queues;
    }

    void register(Router router) {
        router.delete("/devices/:id/commands").handler(this::purge);
        router.get("/local-hub/devices/:id/messages").handler(this::list);
        router.post("/local-hub/devices/:id/messages").handler(this::send);
        router.get("/local-hub/feedback").handler(this::feedback);
    }

    /** The queue: depth, and each message with its state and delivery count. */
    private void list(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            rest.respond(ctx, () -> {
                ObjectNode n = Json.object();
                n.put("deviceId", id);
                var messages = n.putArray("messages");
                for (C2dMessageState s : queues.list(id)) {
                    ObjectNode m = messages.addObject();
                    m.put("messageId", s.message().messageId());
                    m.put("sequenceNumber", s.message().sequenceNumber());
                    m.put("state", s.state());
                    m.put("deliveryCount", s.deliveryCount());
                    m.put("ack", s.message().ack().wireName());
                    m.put("enqueuedTimeUtc", Json.time(s.message().enqueuedTime()));
                    m.put("expiryTimeUtc", Json.time(s.message().expiryTime()));
                    m.put("bodyBytes", s.message().body().length);
                    ObjectNode props = m.putObject("properties");
                    s.message().properties().forEach(props::put);
                }
                n.put("depth", messages.size());
                return n;
            });
        }
    }

    /**
     * Sends one message: {@code {"body": text, "properties": {..}, "messageId", "correlationId", "contentType",
     * "ack": "none|positive|negative|full", "expirySeconds"}}; answers its message id and sequence number.
     */
    private void send(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            rest.respond(ctx, () -> {
                JsonNode body = RestSupport.bodyJson(ctx);
                if (!body.isObject()) {
                    throw ErrorCode.ARGUMENT_INVALID.exception("The request body must be a JSON object.");
                }
                Map<String, String> properties = new LinkedHashMap<>();
                JsonNode props = body.path("properties");
                if (!props.isMissingNode() && !props.isNull()) {
                    if (!props.isObject()) {
                        throw ErrorCode.ARGUMENT_INVALID.exception("properties must be an object of strings.");
                    }
                    props.fields().forEachRemaining(e -> properties.put(e.getKey(), e.getValue().asText()));
                }
                JsonNode expiry = body.path("expirySeconds");
                Instant absoluteExpiry = expiry.isNumber()
                        ? Instant.now().plusSeconds(expiry.asLong()) : null;
                C2dMessage m = queues.send(new C2dSend(id, Json.text(body, "body") == null ? new byte[0]
                        : Json.text(body, "body").getBytes(StandardCharsets.UTF_8), properties,
                        Json.text(body, "messageId"), Json.text(body, "correlationId"), null,
                        Json.text(body, "contentType"), null, C2dAck.parse(Json.text(body, "ack")), absoluteExpiry));
                ObjectNode n = Json.object();
                n.put("messageId", m.messageId());
                n.put("sequenceNumber", m.sequenceNumber());
                return n;
            });
        }
    }

    /** The newest feedback records, of one device or all, newest first, each with its feedback message's state. */
    private void feedback(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String deviceId = ctx.request().getParam("deviceId");
            String top = ctx.request().getParam("top");
            rest.respond(ctx, () -> feedbackJson(deviceId, queues.recentFeedback(deviceId, top(top))));
        }
    }

    private static int top(String value) {
        if (value == null) {
            return DEFAULT_FEEDBACK_TOP;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw ErrorCode.ARGUMENT_INVALID.exception("top must be a number from 1 to "
                    + C2dQueues.MAX_FEEDBACK_RECORDS + ", not '" + value + "'.");
        }
    }

    private ObjectNode feedbackJson(String deviceId, List<FeedbackRecord> records) {
        ObjectNode n = Json.object();
        if (deviceId == null || deviceId.isEmpty()) {
            n.putNull("deviceId");
        } else {
            n.put("deviceId", deviceId);
        }
        n.put("kept", queues.settings().recentFeedback());
        var array = n.putArray("records");
        for (FeedbackRecord r : records) {
            ObjectNode o = array.addObject();
            o.put("originalMessageId", r.originalMessageId());
            o.put("enqueuedTimeUtc", r.enqueuedTimeUtc());
            o.put("statusCode", r.statusCode());
            o.put("description", r.description());
            o.put("deviceId", r.deviceId());
            o.put("deviceGenerationId", r.deviceGenerationId());
            ObjectNode batch = o.putObject("batch");
            batch.put("messageId", r.batchId());
            batch.put("state", r.batch().wireName());
            batch.put("deliveryCount", r.batchDeliveryCount());
        }
        return n;
    }

    private void purge(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            rest.respond(ctx, () -> {
                int purged = queues.purge(id);
                ObjectNode n = Json.object();
                n.put("deviceId", id);
                n.putNull("moduleId");
                n.put("totalMessagesPurged", purged);
                return n;
            });
        }
    }
}
