package dev.iotjobs.localhub.mqtt;

import dev.iotjobs.localhub.c2d.C2dMessage;
import dev.iotjobs.localhub.edge.Feature;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/** The IoT Hub MQTT topic names a device may use, and the exact formats the device SDK parses. */
final class DeviceTopics {
    static final String METHODS_FILTER = "$iothub/methods/POST/#";
    static final String TWIN_RESPONSE_FILTER = "$iothub/twin/res/#";
    static final String DESIRED_FILTER = "$iothub/twin/PATCH/properties/desired/#";
    static final String TWIN_GET_PREFIX = "$iothub/twin/GET/";
    static final String REPORTED_PREFIX = "$iothub/twin/PATCH/properties/reported/";
    static final String METHOD_RESPONSE_PREFIX = "$iothub/methods/res/";

    private DeviceTopics() {
    }

    /**
     * The client's own part of topic names: {@code {deviceId}}, or {@code {deviceId}/modules/{moduleId}} for a
     * module client (client id {@code deviceId/moduleId}).
     */
    static String ownPath(String clientId) {
        int slash = clientId.indexOf('/');
        return slash < 0 ? clientId : clientId.substring(0, slash) + "/modules/" + clientId.substring(slash + 1);
    }

    /**
     * Filters a client may subscribe to: its own C2D topic, methods and twin topics; a module also its own
     * {@code inputs/#} (what ModuleClient subscribes to behind an Edge gateway). Nothing of its device or siblings.
     */
    static boolean maySubscribe(String clientId, String filter) {
        String own = "devices/" + ownPath(clientId);
        return Set.of(METHODS_FILTER, TWIN_RESPONSE_FILTER, DESIRED_FILTER,
                        "$iothub/twin/PATCH/properties/desired/", own + "/messages/devicebound/#")
                .contains(filter) || clientId.indexOf('/') > 0 && filter.equals(own + "/inputs/#");
    }

    /** Device telemetry is {@code devices/{d}/messages/events/..}; a module's {@code devices/{d}/modules/{m}/messages/events/..}. */
    static boolean isTelemetry(String clientId, String topic) {
        String own = "devices/" + ownPath(clientId);
        return topic.startsWith(own + "/messages/events/")
                || topic.equals(own + "/messages/events");
    }

    /** The value of a query parameter ($rid, $version) in a topic's "?a=b&c=d" tail, or null. */
    static String param(String topic, String name) {
        int q = topic.indexOf('?');
        if (q < 0) {
            return null;
        }
        for (String pair : topic.substring(q + 1).split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return pair.substring(eq + 1);
            }
        }
        return null;
    }

    /** {@code $iothub/twin/res/{status}/?$rid={rid}[&$version={v}]}: status always 3 digits. */
    static String twinResponse(int status, String rid, Long version) {
        return "$iothub/twin/res/" + status + "/?$rid=" + rid + (version == null ? "" : "&$version=" + version);
    }

    static String desiredPatch(long version) {
        return "$iothub/twin/PATCH/properties/desired/?$version=" + version;
    }

    static String methodRequest(String methodName, String rid) {
        return "$iothub/methods/POST/" + methodName + "/?$rid=" + rid;
    }

    /** The status in {@code $iothub/methods/res/{status}/?$rid=..}, or null if malformed. */
    static Integer methodResponseStatus(String topic) {
        String rest = topic.substring(METHOD_RESPONSE_PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            return null;
        }
        try {
            return Integer.parseInt(rest.substring(0, slash));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The feature a (permitted) filter subscribes to, or null for per-connection topics (twin responses, inputs). */
    static Feature featureOf(String filter) {
        if (filter.equals(METHODS_FILTER)) {
            return Feature.METHODS;
        }
        if (filter.equals(DESIRED_FILTER) || filter.equals("$iothub/twin/PATCH/properties/desired/")) {
            return Feature.DESIRED;
        }
        if (filter.endsWith("/messages/devicebound/#")) {
            return Feature.C2D;
        }
        return null;
    }

    /**
     * {@code devices/{id}/messages/devicebound/{property bag}} as IoT Hub writes it ("Receiving cloud-to-device
     * messages" in "Communicate with an IoT hub using the MQTT protocol"): system properties as {@code %24.mid},
     * {@code %24.cid}, {@code %24.to}, ... then the application properties, every key and value percent-encoded.
     * The Java device SDK reads properties only from the first {@code %24} on, so the bag always starts with a
     * system property; properties with an empty value are left out (the SDK cannot parse {@code key=}).
     */
    static String devicebound(String clientId, C2dMessage m) {
        StringBuilder b = new StringBuilder("devices/").append(ownPath(clientId)).append("/messages/devicebound/");
        boolean[] first = {true};
        BiConsumer<String, String> add = (k, v) -> {
            if (v == null || v.isEmpty()) {
                return;
            }
            if (!first[0]) {
                b.append('&');
            }
            first[0] = false;
            b.append(encode(k)).append('=').append(encode(v));
        };
        add.accept("$.mid", m.messageId());
        add.accept("$.cid", m.correlationId());
        add.accept("$.to", m.to());
        add.accept("$.uid", m.userId());
        add.accept("$.ct", m.contentType());
        add.accept("$.ce", m.contentEncoding());
        add.accept("iothub-ack", m.ack().wireName());
        m.properties().forEach(add);
        return b.toString();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The property bag of a telemetry topic ({@code devices/{id}/messages/events/{bag}}), decoded, in order. */
    static Map<String, String> telemetryProperties(String clientId, String topic) {
        String prefix = "devices/" + ownPath(clientId) + "/messages/events/";
        Map<String, String> out = new LinkedHashMap<>();
        if (!topic.startsWith(prefix)) {
            return out;
        }
        String bag = topic.substring(prefix.length());
        if (bag.endsWith("/")) {
            bag = bag.substring(0, bag.length() - 1);
        }
        for (String pair : bag.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? null : pair.substring(eq + 1);
            try {
                out.put(URLDecoder.decode(key, StandardCharsets.UTF_8),
                        value == null ? null : URLDecoder.decode(value, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                out.put(key, value); // not valid percent-encoding: kept as sent
            }
        }
        return out;
    }
}
