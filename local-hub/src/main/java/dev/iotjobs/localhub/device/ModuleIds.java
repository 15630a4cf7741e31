package dev.iotjobs.localhub.device;

import dev.iotjobs.localhub.model.ErrorCode;

import java.util.regex.Pattern;

/**
 * Module identities are kept as {@link Device} values (a module has what a device has: keys, an etag, a twin,
 * a connection) in a registry of their own, keyed {@code deviceId/moduleId}. '/' is valid in neither id, so
 * the key is unambiguous; it is also the module's MQTT client id.
 */
public final class ModuleIds {
    /** IoT Hub module ids: the device id alphabet, up to 128 characters. */
    private static final Pattern MODULE_ID = Pattern.compile("[A-Za-z0-9\\-:.+%_#*?!(),=@$']{1,128}");

    private ModuleIds() {
    }

    /** The registry key (and MQTT client id) of a module. */
    public static String key(String deviceId, String moduleId) {
        return deviceId + "/" + moduleId;
    }

    /** The prefix shared by the keys of every module of a device. */
    static String prefixOf(String deviceId) {
        return deviceId + "/";
    }

    /** True if a client id names a module ({@code deviceId/moduleId}, both non-empty, one '/'). */
    public static boolean isModuleKey(String clientId) {
        int slash = clientId.indexOf('/');
        return slash > 0 && slash < clientId.length() - 1 && clientId.indexOf('/', slash + 1) < 0;
    }

    static void validate(String moduleId) {
        if (moduleId == null || !MODULE_ID.matcher(moduleId).matches()) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Module ID '" + moduleId + "' is invalid: use 1 to 128 ASCII "
                    + "letters, digits or - : . + % _ # * ? ! ( ) , = @ $ '.");
        }
    }
}
