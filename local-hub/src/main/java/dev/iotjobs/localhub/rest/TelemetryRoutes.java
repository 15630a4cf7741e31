package dev.iotjobs.localhub.rest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.telemetry.RecentTelemetry;
import dev.iotjobs.localhub.telemetry.TelemetryEvent;
import dev.iotjobs.localhub.telemetry.TelemetryMessage;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * {@code GET /local-hub/telemetry[?deviceId=&top=&after=]}: the newest device-to-cloud messages of the built-in
 * endpoint, for the hub's console. IoT Hub serves telemetry only to Event Hubs readers; this route is the hub's own,
 * under a prefix IoT Hub does not use, and asks what reading the built-in endpoint asks: Service Connect.
 * {@code after} is the {@code cursor} of the previous answer (one sequence number per partition, comma-separated).
 */
final class TelemetryRoutes {
    /** Body bytes an answer carries per message at most (the rest is counted in {@code bodyBytes}). */
    static final int MAX_BODY_BYTES = 4096;
    private static final int DEFAULT_TOP = 20;

    private final RestSupport rest;
    private final RecentTelemetry telemetry;

    TelemetryRoutes(RestSupport rest, RecentTelemetry telemetry) {
        this.rest = rest;
        this.telemetry = telemetry;
    }

    void register(Router router) {
        router.get("/local-hub/telemetry").handler(this::recent);
    }

    private void recent(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String deviceId = ctx.request().getParam("deviceId");
            String top = ctx.request().getParam("top");
            String after = ctx.request().getParam("after");
            rest.respond(ctx, () -> toJson(deviceId, telemetry.read(deviceId, cursor(after), top(top))));
        }
    }

    private static int top(String value) {
        if (value == null) {
            return DEFAULT_TOP;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw ErrorCode.ARGUMENT_INVALID.exception("top must be a number from 1 to " + RecentTelemetry.MAX_EVENTS
                    + ", not '" + value + "'.");
        }
    }

    private static long[] cursor(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        try {
            return Arrays.stream(value.split(",", -1)).mapToLong(Long::parseLong).toArray();
        } catch (NumberFormatException e) {
            throw ErrorCode.ARGUMENT_INVALID.exception("after must be the cursor of a previous answer (sequence numbers"
                    + " separated by commas), not '" + value + "'.");
        }
    }

    private static ObjectNode toJson(String deviceId, RecentTelemetry.Page page) {
        ObjectNode n = Json.object();
        if (deviceId == null || deviceId.isEmpty()) {
            n.putNull("deviceId");
        } else {
            n.put("deviceId", deviceId);
        }
        var messages = n.putArray("messages");
        for (TelemetryEvent e : page.events()) {
            messages.add(message(e));
        }
        n.put("cursor", String.join(",", Arrays.stream(page.cursor()).mapToObj(Long::toString).toList()));
        n.put("more", page.more());
        n.put("messagesLastMinute", page.lastMinute());
        n.put("messagesLastMinuteExact", page.lastMinuteExact());
        n.put("messagesPerSecond", Math.round(page.perSecond() * 100) / 100.0);
        return n;
    }

    /** One event: body (UTF-8 text, else base64), application properties, and the system properties IoT Hub stamps. */
    private static ObjectNode message(TelemetryEvent e) {
        TelemetryMessage m = e.message();
        ObjectNode n = Json.object();
        n.put("deviceId", m.identity().deviceId());
        if (m.identity().moduleId() != null) {
            n.put("moduleId", m.identity().moduleId());
        }
        n.put("partition", e.partition());
        n.put("sequenceNumber", e.sequenceNumber());
        n.put("enqueuedTimeUtc", Json.time(e.enqueuedTime()));
        byte[] body = m.body();
        byte[] shown = body.length > MAX_BODY_BYTES ? Arrays.copyOf(body, MAX_BODY_BYTES) : body;
        n.put("bodyBytes", body.length);
        String text = utf8(shown, shown.length < body.length);
        if (text != null) {
            n.put("body", text);
            n.put("bodyEncoding", "utf-8");
        } else {
            n.put("body", Base64.getEncoder().encodeToString(shown));
            n.put("bodyEncoding", "base64");
        }
        n.put("bodyTruncated", shown.length < body.length);
        ObjectNode app = n.putObject("properties");
        m.applicationProperties().forEach(app::put);
        ObjectNode sys = n.putObject("systemProperties");
        putIf(sys, "message-id", m.messageId());
        putIf(sys, "correlation-id", m.correlationId());
        putIf(sys, "content-type", m.contentType());
        putIf(sys, "content-encoding", m.contentEncoding());
        putIf(sys, "iothub-creation-time-utc", m.creationTime() == null ? null : Json.time(m.creationTime()));
        putIf(sys, "dt-subject", m.componentName());
        sys.put("iothub-connection-device-id", m.identity().deviceId());
        putIf(sys, "iothub-connection-module-id", m.identity().moduleId());
        putIf(sys, "iothub-connection-auth-method", m.authMethod());
        putIf(sys, "iothub-connection-auth-generation-id", m.authGenerationId());
        sys.put("iothub-enqueuedtime", Json.time(e.enqueuedTime()));
        sys.put("iothub-message-source", TelemetryEvent.SOURCE_TELEMETRY);
        return n;
    }

    private static void putIf(ObjectNode n, String name, String value) {
        if (value != null) {
            n.put(name, value);
        }
    }

    /** The text when the bytes are UTF-8 (a body cut at the limit may end mid-character: that tail is dropped). */
    private static String utf8(byte[] bytes, boolean cut) {
        for (int drop = 0; drop <= (cut ? Math.min(3, bytes.length) : 0); drop++) {
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes, 0, bytes.length - drop)).toString();
            } catch (CharacterCodingException e) {
                // not UTF-8 (or cut mid-character: try without the last byte)
            }
        }
        return null;
    }
}
