package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.auth.SharedAccessPolicy;
import dev.iotjobs.localhub.model.IdentityKey;

/**
 * What one accepted token (or TLS client certificate) lets a connection do, until {@code expiryEpochSeconds}
 * (0: never, X.509).
 *
 * @param identity the device or module of a device-scoped token, else null
 * @param policy   the hub policy of a policy token ({@code skn}), else null
 * @param scope    a policy token's resource path below the host ("" for the whole hub)
 * @param token    the SAS token of a device-scoped claim (the device edge checks it again when the device's first
 *                 link opens), null for X.509 and policy claims
 */
record Claim(IdentityKey identity, SharedAccessPolicy policy, String scope, long expiryEpochSeconds, String token) {

    static Claim device(IdentityKey identity, long expiry, String token) {
        return new Claim(identity, null, null, expiry, token);
    }

    static Claim policy(SharedAccessPolicy policy, String scope, long expiry) {
        return new Claim(null, policy, scope, expiry, null);
    }

    /** The key links of this claim are grouped by: the token's audience. */
    String audience() {
        return identity != null ? "devices/" + identity : "policy/" + policy.name() + "/" + scope;
    }

    /** Whether the claim covers a device link of {@code link}: a device token the device and its modules, a module token that module. */
    boolean coversDevice(IdentityKey link) {
        return identity != null && identity.deviceId().equals(link.deviceId())
                && (identity.moduleId() == null || identity.moduleId().equals(link.moduleId()));
    }

    /** Whether the claim covers the service links (C2D send, feedback, file notifications). */
    boolean coversService() {
        return policy != null && policy.grants(Permission.SERVICE_CONNECT) && scope.isEmpty();
    }
}
