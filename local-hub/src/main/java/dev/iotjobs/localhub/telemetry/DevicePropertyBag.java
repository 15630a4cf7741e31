package dev.iotjobs.localhub.telemetry;

import dev.iotjobs.localhub.model.IdentityKey;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A device-to-cloud message from an IoT Hub topic name and its property bag
 * ({@code devices/{d}[/modules/{m}]/messages/events/$.mid=..&$.cid=..&key=value}), as devices send it over MQTT:
 * {@code $.mid}, {@code $.cid}, {@code $.ct}, {@code $.ce}, {@code $.ctime} and {@code $.sub} are system
 * properties; {@code $.cdid}, {@code $.cmid} (the hub stamps the connection's identity itself), {@code $.to},
 * {@code $.uid}, {@code $.on}, {@code $.ifid} and {@code $.exp} are not kept; everything else is an application
 * property. Keys and values are URL-decoded ({@code +} as a space); a leading {@code ?} and a trailing {@code /} are
 * allowed (IoT Hub's "Communicate with an IoT hub using the MQTT protocol" page).
 */
public final class DevicePropertyBag {
    /** The property IoT Hub gives a message's creation time in on the built-in endpoint. */
    public static final String CREATION_TIME_PROPERTY = "iothub-creation-time-utc";

    private DevicePropertyBag() {
    }

    /**
     * @param clientId         {@code deviceId} or {@code deviceId/moduleId}
     * @param topic            the PUBLISH topic
     * @param authMethod       the identity's authentication type ({@code sas}, {@code selfSigned}, {@code certificateAuthority})
     * @param authGenerationId the identity's generation id
     */
    public static TelemetryMessage message(String clientId, String topic, byte[] body, String authMethod,
                                           String authGenerationId) {
        int slash = clientId.indexOf('/');
        IdentityKey identity = slash < 0 ? IdentityKey.device(clientId)
                : IdentityKey.module(clientId.substring(0, slash), clientId.substring(slash + 1));
        String marker = "/messages/events";
        int at = topic.indexOf(marker);
        String bag = at < 0 ? "" : topic.substring(at + marker.length());
        if (bag.startsWith("/")) {
            bag = bag.substring(1);
        }
        if (bag.startsWith("?")) {
            bag = bag.substring(1);
        }
        if (bag.endsWith("/")) {
            bag = bag.substring(0, bag.length() - 1);
        }
        Map<String, String> app = new LinkedHashMap<>();
        String messageId = null;
        String correlationId = null;
        String contentType = null;
        String contentEncoding = null;
        Instant created = null;
        String component = null;
        for (String item : bag.isEmpty() ? new String[0] : bag.split("&")) {
            int eq = item.indexOf('=');
            String key = decode(eq < 0 ? item : item.substring(0, eq));
            String value = eq < 0 ? "" : decode(item.substring(eq + 1));
            switch (key) {
                case "$.mid" -> messageId = value;
                case "$.cid" -> correlationId = value;
                case "$.ct" -> contentType = value;
                case "$.ce" -> contentEncoding = value;
                case "$.ctime" -> {
                    created = instant(value);
                    if (created == null) { // a format Instant cannot read: kept as the device sent it
                        app.put(CREATION_TIME_PROPERTY, value);
                    }
                }
                case "$.sub" -> component = value;
                case "$.cdid", "$.cmid", "$.to", "$.uid", "$.on", "$.ifid", "$.exp" -> {
                }
                default -> {
                    if (!key.isEmpty()) {
                        app.put(key, value);
                    }
                }
            }
        }
        return new TelemetryMessage(identity, body, app, messageId, correlationId, contentType, contentEncoding,
                created, component, authMethod, authGenerationId);
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s; // a stray '%': kept as sent
        }
    }

    private static Instant instant(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            try { // the Java device SDK's form, e.g. 2024-01-02_03:04:05.0000000 (UTC)
                return Instant.parse(text.replace('_', 'T') + (text.endsWith("Z") ? "" : "Z"));
            } catch (DateTimeParseException again) {
                return null;
            }
        }
    }
}
