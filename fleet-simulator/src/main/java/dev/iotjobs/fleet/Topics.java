package dev.iotjobs.fleet;

/**
 * The IoT Hub MQTT topics a device uses, from the device's side. The fleet's own copy: the hub's topic
 * helpers are its internals, and a load generator must speak the public protocol as any device does.
 */
final class Topics {
    static final String METHODS_FILTER = "$iothub/methods/POST/#";
    static final String TWIN_RESPONSE_FILTER = "$iothub/twin/res/#";
    static final String DESIRED_FILTER = "$iothub/twin/PATCH/properties/desired/#";
    static final String METHOD_REQUEST_PREFIX = "$iothub/methods/POST/";
    static final String DESIRED_PREFIX = "$iothub/twin/PATCH/properties/desired/";

    private Topics() {
    }

    /** The method name in {@code $iothub/methods/POST/{name}/?$rid={rid}}. */
    static String methodName(String topic) {
        String rest = topic.substring(METHOD_REQUEST_PREFIX.length());
        int slash = rest.indexOf('/');
        return slash < 0 ? rest : rest.substring(0, slash);
    }

    /** Where a device answers a method request: {@code $iothub/methods/res/{status}/?$rid={rid}}. */
    static String methodResponse(int status, String rid) {
        return "$iothub/methods/res/" + status + "/?$rid=" + rid;
    }

    /** Where a device sends a reported-properties patch: {@code $iothub/twin/PATCH/properties/reported/?$rid={rid}}. */
    static String reportedPatch(int rid) {
        return "$iothub/twin/PATCH/properties/reported/?$rid=" + rid;
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
}
