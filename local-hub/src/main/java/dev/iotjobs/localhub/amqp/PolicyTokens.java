package dev.iotjobs.localhub.amqp;

import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.auth.SharedAccessPolicy;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Checks a SAS token signed with one of the hub's shared access policies ({@code skn} names it), as the service
 * side of every AMQP endpoint needs it: the policy exists, the token has not expired, and its signature is valid
 * under the policy's key (decoded from base64, as the IoT SDKs sign, or as UTF-8 text, as Event Hubs clients sign).
 * What the policy may do is the caller's check on {@link Cbs.Grant#principal()} (a {@link SharedAccessPolicy}).
 */
public final class PolicyTokens implements Cbs.TokenValidator {
    private final Map<String, SharedAccessPolicy> policies;
    private final Clock clock;

    public PolicyTokens(List<SharedAccessPolicy> policies, Clock clock) {
        this.policies = policies.stream().collect(Collectors.toMap(SharedAccessPolicy::name, Function.identity()));
        this.clock = clock;
    }

    @Override
    public Cbs.Grant validate(String token, String type, String audience) throws Cbs.Refusal {
        if (type != null && !type.equals("servicebus.windows.net:sastoken")) {
            throw new Cbs.Refusal(401, "Token type '" + type + "' is not supported here: use a shared access signature"
                    + " of one of the hub's shared access policies (type servicebus.windows.net:sastoken).");
        }
        SasToken sas = SasToken.parse(token);
        if (sas == null) {
            throw new Cbs.Refusal(401, "The token is not a valid SharedAccessSignature (sr, sig and se are required).");
        }
        return new Cbs.Grant(sas.resource(), check(sas), Instant.ofEpochSecond(sas.expiry()));
    }

    /** The policy that signed a parsed token, or a 401 refusal saying why not. */
    public SharedAccessPolicy check(SasToken sas) throws Cbs.Refusal {
        SharedAccessPolicy policy = sas.keyName() == null ? null : policies.get(sas.keyName());
        if (policy == null) {
            throw new Cbs.Refusal(401, sas.keyName() == null
                    ? "The token names no shared access policy (skn): sign it with a policy of the hub, e.g. service."
                    : "Unknown shared access policy '" + sas.keyName() + "'.");
        }
        if (sas.isExpired(clock.instant().getEpochSecond())) {
            throw new Cbs.Refusal(401, "The token has expired (se=" + sas.expiry() + ").");
        }
        if (!sas.isSignedWithKeyText(policy.primaryKey()) && !sas.isSignedWith(policy.primaryKey())) {
            throw new Cbs.Refusal(401, "The token's signature is invalid for policy '" + policy.name()
                    + "': use the policy's key from the hub's connection strings.");
        }
        return policy;
    }
}
