package dev.iotjobs.localhub.auth;

import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.x509.X509Checks;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;

/**
 * Checks a device's SAS token (the MQTT CONNECT password, the AMQP put-token) or X.509 client certificate against
 * the registry. A SAS token is signed with one of the device's keys, or with the key of a hub policy that grants
 * DeviceConnect (named by {@code skn}).
 */
public final class DeviceAuthenticator {
    private final DeviceRegistry registry;
    private final Clock clock;

    /** The CA that {@code certificateAuthority} devices' certificates must chain to; null refuses them. */
    private final X509Certificate deviceCa;
    /** The hub's shared access policies: those with DeviceConnect may sign a device's token. */
    private final List<SharedAccessPolicy> policies;

    public DeviceAuthenticator(DeviceRegistry registry, Clock clock) {
        this(registry, clock, null);
    }

    public DeviceAuthenticator(DeviceRegistry registry, Clock clock, X509Certificate deviceCa) {
        this(registry, clock, deviceCa, SharedAccessPolicy.defaults());
    }

    public DeviceAuthenticator(DeviceRegistry registry, Clock clock, X509Certificate deviceCa,
                               List<SharedAccessPolicy> policies) {
        this.registry = registry;
        this.clock = clock;
        this.deviceCa = deviceCa;
        this.policies = List.copyOf(policies);
    }

    /** Why a connection was refused; never shown to the device (IoT Hub just says "not authorized"). */
    public record Result(boolean accepted, String reason, long expiryEpochSeconds) {
        static Result refuse(String reason) {
            return new Result(false, reason, 0);
        }
    }

    public Result authenticate(String deviceId, String password) {
        return authenticate(deviceId, password, null);
    }

    /**
     * SAS devices: the password must be a valid SAS token for the device. X.509 devices ({@code selfSigned},
     * {@code certificateAuthority}): the TLS client certificate {@code chain} (null when none was presented)
     * must match a registered thumbprint, or chain to the device CA with {@code CN=<deviceId>}; the password is
     * ignored, as IoT Hub does. Accepted X.509 connections never expire ({@link Result#expiryEpochSeconds} 0).
     */
    public Result authenticate(String deviceId, String password, X509Certificate[] chain) {
        Device device = registry.find(deviceId);
        if (device != null && device.enabled() && !"sas".equals(device.authType())) {
            return authenticateX509(device, chain);
        }
        return authenticateSas(deviceId, password);
    }

    private Result authenticateX509(Device device, X509Certificate[] chain) {
        return x509(device, "device " + device.id(), device.id(), chain, deviceCa);
    }

    /**
     * The X.509 rule of an identity (a device, or a module with {@code commonName} {@code deviceId/moduleId}):
     * {@code selfSigned} by the SHA-1 or SHA-256 thumbprint (primary or secondary) of the presented certificate,
     * {@code certificateAuthority} by a chain to {@code ca} whose first certificate has {@code CN=<commonName>};
     * the certificate must be valid now. Accepted connections never expire.
     */
    static Result x509(Device identity, String label, String commonName, X509Certificate[] chain, X509Certificate ca) {
        if (chain == null || chain.length == 0) {
            return Result.refuse(label + " uses X.509 (" + identity.authType() + ") but presented no client certificate");
        }
        switch (identity.authType()) {
            case "selfSigned" -> {
                try {
                    chain[0].checkValidity();
                } catch (CertificateException e) {
                    return Result.refuse("the client certificate of " + label + " is not valid now: " + e.getMessage());
                }
                if (!X509Checks.matches(chain[0], identity.primaryThumbprint())
                        && !X509Checks.matches(chain[0], identity.secondaryThumbprint())) {
                    return Result.refuse("the client certificate's thumbprint (SHA-1 "
                            + X509Checks.sha1Thumbprint(chain[0]) + ") matches neither thumbprint of " + label);
                }
                return new Result(true, null, 0);
            }
            case "certificateAuthority" -> {
                if (ca == null) {
                    return Result.refuse("no device CA is configured for certificateAuthority " + label);
                }
                String problem = X509Checks.caChainProblem(chain, ca, commonName);
                return problem == null ? new Result(true, null, 0) : Result.refuse(label + ": " + problem);
            }
            default -> {
                return Result.refuse(label + " has authentication type " + identity.authType());
            }
        }
    }

    private Result authenticateSas(String deviceId, String password) {
        Device device = registry.find(deviceId);
        if (device == null) {
            return Result.refuse("device " + deviceId + " is not registered");
        }
        if (!device.enabled()) {
            return Result.refuse("device " + deviceId + " is disabled");
        }
        if (!"sas".equals(device.authType())) {
            return Result.refuse("device " + deviceId + " does not use SAS authentication");
        }
        SasToken token = SasToken.parse(password);
        if (token == null) {
            return Result.refuse("the password is not a SharedAccessSignature");
        }
        String resource = token.resource();
        int slash = resource.indexOf('/');
        String host = slash < 0 ? resource : resource.substring(0, slash);
        String path = slash < 0 ? "" : resource.substring(slash + 1);
        // IoT Hub requires sr = {hub}/devices/{id}: another host's token is not this hub's.
        if (!host.equalsIgnoreCase(WellKnownKeys.HOST_NAME) || !path.equals("devices/" + deviceId)) {
            return Result.refuse("the token's resource " + resource + " is not device " + deviceId);
        }
        if (token.isExpired(clock.instant().getEpochSecond())) {
            return Result.refuse("the token has expired");
        }
        if (token.keyName() != null) {
            return authenticateWithPolicy(deviceId, token);
        }
        if (!token.isSignedWith(device.primaryKey()) && !token.isSignedWith(device.secondaryKey())) {
            return Result.refuse("the token's signature does not match the device keys");
        }
        return new Result(true, null, token.expiry());
    }

    /**
     * A device token signed by a hub policy ({@code skn}), as a token service makes it: IoT Hub accepts it on the
     * device endpoints when the policy grants DeviceConnect (the {@code device} policy, {@code iothubowner}), with
     * the same {@code sr={host}/devices/{id}} ("Control access to IoT Hub with shared access signatures", security
     * tokens from service components).
     */
    private Result authenticateWithPolicy(String deviceId, SasToken token) {
        SharedAccessPolicy policy = policies.stream().filter(p -> p.name().equals(token.keyName())).findFirst().orElse(null);
        if (policy == null) {
            return Result.refuse("the token names shared access policy '" + token.keyName() + "', which this hub has not");
        }
        if (!policy.grants(Permission.DEVICE_CONNECT)) {
            return Result.refuse("policy '" + policy.name() + "' lacks DeviceConnect, so its tokens cannot connect device "
                    + deviceId);
        }
        if (!token.isSignedWith(policy.primaryKey())) {
            return Result.refuse("the token's signature does not match the key of policy '" + policy.name() + "'");
        }
        return new Result(true, null, token.expiry());
    }
}
