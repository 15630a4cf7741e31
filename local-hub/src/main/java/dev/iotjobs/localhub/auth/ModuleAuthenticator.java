package dev.iotjobs.localhub.auth;

import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DeviceRegistry;

import java.security.cert.X509Certificate;
import java.time.Clock;

/**
 * Checks a module client's SAS token (the MQTT CONNECT password of client id {@code deviceId/moduleId}): the
 * token's resource must be {@code {host}/devices/{deviceId}/modules/{moduleId}} and its signature one of the
 * module's keys. The module's device must exist and be enabled. A module registered as {@code selfSigned} or
 * {@code certificateAuthority} authenticates with its TLS client certificate instead, by the device rules
 * (thumbprint; or a chain to the hub's device CA with {@code CN=<deviceId>/<moduleId>}, the common name IoT Hub
 * requires of a module's certificate), and its password is ignored.
 */
public final class ModuleAuthenticator {
    private final DeviceRegistry devices;
    private final DeviceRegistry modules;
    private final Clock clock;
    /** The CA that {@code certificateAuthority} modules' certificates must chain to; null refuses them. */
    private final X509Certificate deviceCa;

    public ModuleAuthenticator(DeviceRegistry devices, DeviceRegistry modules, Clock clock) {
        this(devices, modules, clock, null);
    }

    public ModuleAuthenticator(DeviceRegistry devices, DeviceRegistry modules, Clock clock, X509Certificate deviceCa) {
        this.devices = devices;
        this.modules = modules;
        this.clock = clock;
        this.deviceCa = deviceCa;
    }

    /** A SAS-only check (no client certificate). */
    public DeviceAuthenticator.Result authenticate(String moduleKey, String password) {
        return authenticate(moduleKey, password, null);
    }

    /**
     * @param moduleKey the client id, {@code deviceId/moduleId}
     * @param chain the TLS client certificate chain the client presented, or null
     */
    public DeviceAuthenticator.Result authenticate(String moduleKey, String password, X509Certificate[] chain) {
        Device module = modules.find(moduleKey);
        if (module == null) {
            return DeviceAuthenticator.Result.refuse("module " + moduleKey + " is not registered");
        }
        Device device = devices.find(module.deviceId());
        if (device == null || !device.enabled()) {
            return DeviceAuthenticator.Result.refuse("the device of module " + moduleKey + " is missing or disabled");
        }
        if (!"sas".equals(module.authType())) {
            return DeviceAuthenticator.x509(module, "module " + moduleKey, moduleKey, chain, deviceCa);
        }
        SasToken token = SasToken.parse(password);
        if (token == null) {
            return DeviceAuthenticator.Result.refuse("the password is not a SharedAccessSignature");
        }
        String resource = token.resource();
        int slash = resource.indexOf('/');
        String host = slash < 0 ? resource : resource.substring(0, slash);
        String path = slash < 0 ? "" : resource.substring(slash + 1);
        // As for devices: sr = {this hub}/devices/{deviceId}/modules/{moduleId}.
        if (!host.equalsIgnoreCase(WellKnownKeys.HOST_NAME)
                || !path.equals("devices/" + module.deviceId() + "/modules/" + module.moduleId())) {
            return DeviceAuthenticator.Result.refuse("the token's resource " + resource + " is not module " + moduleKey);
        }
        if (token.isExpired(clock.instant().getEpochSecond())) {
            return DeviceAuthenticator.Result.refuse("the token has expired");
        }
        if (!token.isSignedWith(module.primaryKey()) && !token.isSignedWith(module.secondaryKey())) {
            return DeviceAuthenticator.Result.refuse("the token's signature does not match the module keys");
        }
        return new DeviceAuthenticator.Result(true, null, token.expiry());
    }
}
