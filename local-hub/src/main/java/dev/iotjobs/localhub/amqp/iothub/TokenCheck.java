package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.auth.DeviceAuthenticator;
import dev.iotjobs.localhub.auth.ModuleAuthenticator;
import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.auth.ServiceAuthenticator;
import dev.iotjobs.localhub.auth.SharedAccessPolicy;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.model.IdentityKey;

import java.security.cert.X509Certificate;
import java.util.Locale;

/**
 * Turns a put-token's SAS token, or a TLS client certificate, into a {@link Claim}: what IoT Hub's
 * "Control access to IoT Hub with shared access signatures" page describes. The token decides, not the
 * put-token's {@code name} (Java module clients send their device's name with a module token):
 * {@code sr={host}/devices/{d}} is device {@code d} (its keys), {@code sr={host}/devices/{d}/modules/{m}} is that
 * module (its keys), {@code sr={host}/devices/{d}} with {@code skn} is device {@code d} when the policy grants
 * DeviceConnect, and {@code sr={host}} with {@code skn} is a hub policy (its key and permissions).
 */
final class TokenCheck {
    private final DeviceAuthenticator devices;
    private final ModuleAuthenticator modules;
    private final ServiceAuthenticator service;

    TokenCheck(DeviceAuthenticator devices, ModuleAuthenticator modules, ServiceAuthenticator service) {
        this.devices = devices;
        this.modules = modules;
        this.service = service;
    }

    /** A checked token: the claim it grants, or why it is refused (and the put-token status to answer). */
    record Outcome(Claim claim, int status, String reason) {
        static Outcome refused(String reason) {
            return new Outcome(null, 401, reason);
        }
    }

    Outcome check(String tokenText) {
        SasToken token = SasToken.parse(tokenText);
        if (token == null) {
            return Outcome.refused("the put-token body is not a SharedAccessSignature token");
        }
        String resource = token.resource();
        int slash = resource.indexOf('/');
        String host = slash < 0 ? resource : resource.substring(0, slash);
        if (!host.equalsIgnoreCase(WellKnownKeys.HOST_NAME)) {
            return Outcome.refused("the token's resource " + resource + " is not this hub (" + WellKnownKeys.HOST_NAME + ")");
        }
        String path = slash < 0 ? "" : trimSlashes(resource.substring(slash + 1));
        String[] s = path.split("/");
        // A policy token for one device (sr={host}/devices/{d}, skn) is that device's, if the policy grants
        // DeviceConnect: the device authenticator decides, as for MQTT.
        if (token.keyName() != null && !(s.length == 2 && s[0].equals("devices"))) {
            return policy(tokenText, token, path);
        }
        if (s.length == 2 && s[0].equals("devices")) {
            DeviceAuthenticator.Result r = devices.authenticate(s[1], tokenText);
            return r.accepted() ? new Outcome(Claim.device(IdentityKey.device(s[1]), r.expiryEpochSeconds(), tokenText), 200, null)
                    : Outcome.refused(r.reason());
        }
        if (s.length == 4 && s[0].equals("devices") && s[2].equals("modules")) {
            DeviceAuthenticator.Result r = modules.authenticate(s[1] + "/" + s[3], tokenText);
            return r.accepted() ? new Outcome(Claim.device(IdentityKey.module(s[1], s[3]), r.expiryEpochSeconds(), tokenText), 200, null)
                    : Outcome.refused(r.reason());
        }
        return Outcome.refused("the token's resource " + resource + " names neither the hub, a device nor a module");
    }

    private Outcome policy(String tokenText, SasToken token, String path) {
        try {
            SharedAccessPolicy policy = service.authorize(tokenText, Permission.SERVICE_CONNECT);
            return new Outcome(Claim.policy(policy, path.toLowerCase(Locale.ROOT), token.expiry()), 200, null);
        } catch (HubException e) {
            return Outcome.refused(e.getMessage());
        }
    }

    /**
     * The check of a connection's TLS client certificate for the device or module a link names (X.509 clients put
     * no token): a {@code selfSigned} identity by its thumbprints, a {@code certificateAuthority} one by a chain to
     * the hub's device CA with {@code CN=<deviceId>} (a module: {@code CN=<deviceId>/<moduleId>}); a SAS identity
     * is refused (it must put a token). The device edge checks the certificate again for each identity it opens,
     * so a device's certificate never opens one of its modules unless it is that module's certificate too.
     */
    Outcome certificate(IdentityKey identity, X509Certificate[] chain) {
        DeviceAuthenticator.Result r = identity.isModule()
                ? modules.authenticate(identity.toString(), null, chain)
                : devices.authenticate(identity.deviceId(), null, chain);
        return r.accepted() ? new Outcome(Claim.device(identity, 0, null), 200, null) : Outcome.refused(r.reason());
    }

    private static String trimSlashes(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && s.charAt(start) == '/') {
            start++;
        }
        while (end > start && s.charAt(end - 1) == '/') {
            end--;
        }
        return s.substring(start, end);
    }
}
