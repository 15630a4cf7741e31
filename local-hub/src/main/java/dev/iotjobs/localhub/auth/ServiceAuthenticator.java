package dev.iotjobs.localhub.auth;

import dev.iotjobs.localhub.model.ErrorCode;

import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Checks the service SAS token of a REST request against the hub's shared access policies. */
public final class ServiceAuthenticator {
    private final String hostName;
    private final Map<String, SharedAccessPolicy> policies;
    private final Clock clock;

    public ServiceAuthenticator(String hostName, List<SharedAccessPolicy> policies, Clock clock) {
        this.hostName = hostName.toLowerCase(Locale.ROOT);
        this.policies = policies.stream().collect(Collectors.toMap(SharedAccessPolicy::name, Function.identity()));
        this.clock = clock;
    }

    /**
     * Verifies the Authorization header value and that its policy grants one of {@code anyOf}.
     *
     * @throws dev.iotjobs.localhub.model.HubException 401 / 401002 on any failure (IoT Hub gives no detail
     *                                                 beyond this code, and neither do we to callers)
     */
    public SharedAccessPolicy authorize(String authorizationHeader, Permission... anyOf) {
        if (authorizationHeader == null || authorizationHeader.isBlank()) {
            throw unauthorized("The request has no Authorization header.");
        }
        SasToken token = SasToken.parse(authorizationHeader.trim());
        if (token == null) {
            throw unauthorized("The Authorization header is not a valid SharedAccessSignature.");
        }
        SharedAccessPolicy policy = token.keyName() == null ? null : policies.get(token.keyName());
        if (policy == null) {
            throw unauthorized("Unknown shared access policy '" + token.keyName() + "'.");
        }
        if (token.isExpired(clock.instant().getEpochSecond())) {
            throw unauthorized("The SAS token has expired.");
        }
        String resource = token.resource().toLowerCase(Locale.ROOT);
        if (!(resource.equals(hostName) || resource.startsWith(hostName + "/"))) {
            throw unauthorized("The SAS token's resource '" + token.resource() + "' is not this hub.");
        }
        if (!token.isSignedWith(policy.primaryKey())) {
            throw unauthorized("The SAS token's signature is invalid.");
        }
        for (Permission permission : anyOf) {
            if (policy.grants(permission)) {
                return policy;
            }
        }
        throw unauthorized("Policy '" + policy.name() + "' lacks the permission this operation needs ("
                + List.of(anyOf) + ").");
    }

    private static RuntimeException unauthorized(String message) {
        return ErrorCode.UNAUTHORIZED.exception(message);
    }
}
