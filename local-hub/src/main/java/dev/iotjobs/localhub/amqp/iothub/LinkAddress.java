package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.model.IdentityKey;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Arrays;

/**
 * What an IoT Hub AMQP link address names (the target of a client's sender, the source of its receiver), as
 * listed on the Microsoft docs page "Communicate with your IoT hub by using the AMQP protocol":
 * <pre>
 * $cbs                                                 claims-based security (put-token)
 * /devices/{d}[/modules/{m}]/messages/events           telemetry (device sends); for a module receiver: input messages
 * /devices/{d}[/modules/{m}]/messages/devicebound      cloud-to-device messages (device receives)
 * /devices/{d}[/modules/{m}]/twin                      twin requests and answers, desired notifications
 * /devices/{d}[/modules/{m}]/methods/devicebound       direct-method requests and answers
 * /messages/devicebound                                cloud-to-device messages (service sends)
 * /messages/serviceBound/feedback                      delivery feedback (service receives)
 * /messages/serviceBound/filenotifications             file-upload notifications (service receives)
 * </pre>
 * Segments are percent-decoded (the Node service SDK encodes device ids); the service paths are matched
 * case-insensitively (the Java service SDK writes {@code servicebound}). An {@code amqps://host} prefix is ignored.
 *
 * @param kind     what the link is for
 * @param identity the device or module of a device link, else null
 */
public record LinkAddress(Kind kind, IdentityKey identity) {

    public enum Kind {
        CBS, TELEMETRY, DEVICE_BOUND, TWIN, METHODS, SERVICE_C2D, FEEDBACK, FILE_NOTIFICATIONS, UNKNOWN;

        public boolean isDeviceLink() {
            return this == TELEMETRY || this == DEVICE_BOUND || this == TWIN || this == METHODS;
        }

        public boolean isServiceLink() {
            return this == SERVICE_C2D || this == FEEDBACK || this == FILE_NOTIFICATIONS;
        }
    }

    private static final LinkAddress UNKNOWN = new LinkAddress(Kind.UNKNOWN, null);

    public static LinkAddress parse(String address) {
        if (address == null || address.isEmpty()) {
            return UNKNOWN;
        }
        String path = address;
        int scheme = path.indexOf("://");
        if (scheme > 0) {
            int slash = path.indexOf('/', scheme + 3);
            path = slash < 0 ? "" : path.substring(slash);
        }
        if (path.equals("$cbs")) {
            return new LinkAddress(Kind.CBS, null);
        }
        String lower = path.toLowerCase(Locale.ROOT);
        switch (stripTrailingSlash(lower)) {
            case "/messages/devicebound":
                return new LinkAddress(Kind.SERVICE_C2D, null);
            case "/messages/servicebound/feedback":
                return new LinkAddress(Kind.FEEDBACK, null);
            case "/messages/servicebound/filenotifications":
                return new LinkAddress(Kind.FILE_NOTIFICATIONS, null);
            default:
                break;
        }
        String[] s = stripTrailingSlash(path).split("/", -1);
        // ["", "devices", d, ...rest] or ["", "devices", d, "modules", m, ...rest]
        if (s.length < 4 || !s[0].isEmpty() || !s[1].equals("devices") || s[2].isEmpty()) {
            return UNKNOWN;
        }
        String deviceId = decode(s[2]);
        if (deviceId == null) {
            return UNKNOWN; // a malformed escape
        }
        int rest = 3;
        IdentityKey identity;
        if (s.length >= 6 && s[3].equals("modules") && !s[4].isEmpty()) {
            String moduleId = decode(s[4]);
            if (moduleId == null) {
                return UNKNOWN;
            }
            identity = IdentityKey.module(deviceId, moduleId);
            rest = 5;
        } else {
            identity = IdentityKey.device(deviceId);
        }
        String tail = String.join("/", Arrays.copyOfRange(s, rest, s.length));
        Kind kind = switch (tail) {
            case "messages/events" -> Kind.TELEMETRY;
            case "messages/devicebound" -> Kind.DEVICE_BOUND;
            case "twin" -> Kind.TWIN;
            case "methods/devicebound" -> Kind.METHODS;
            default -> Kind.UNKNOWN;
        };
        return kind == Kind.UNKNOWN ? UNKNOWN : new LinkAddress(kind, identity);
    }

    private static String stripTrailingSlash(String s) {
        return s.length() > 1 && s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    /** Percent-decoding of one path segment (no '+' to space); null for a malformed escape. */
    static String decode(String segment) {
        if (segment.indexOf('%') < 0) {
            return segment;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(segment.length());
        byte[] raw = segment.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '%') {
                if (i + 2 >= raw.length) {
                    return null;
                }
                int hi = Character.digit(raw[i + 1], 16);
                int lo = Character.digit(raw[i + 2], 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                bytes.write(hi * 16 + lo);
                i += 2;
            } else {
                bytes.write(raw[i]);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
