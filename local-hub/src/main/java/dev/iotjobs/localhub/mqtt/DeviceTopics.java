package dev.iotjobs.localhub.mqtt;

import java.util.Set;

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
}
