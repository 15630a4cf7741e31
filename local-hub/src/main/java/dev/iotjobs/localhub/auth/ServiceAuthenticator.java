package dev.iotjobs.localhub.auth;

import dev.iotjobs.localhub.model.ErrorCode;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
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
        return authorize(authorizationHeader, null, anyOf);
    }

    /**
     * As {@link #authorize(String, Permission...)} for a request on {@code requestPath} (e.g.
     * {@code /devices/dev1}): like IoT Hub, a token reaches only resources under its {@code sr}, so
     * {@code sr=host/devices/dev1} serves {@code /devices/dev1} and nothing else, and {@code sr=host} serves all.
     *
     * @param requestPath the request's path as sent (percent-encoded); null skips the scope check
     */
    public SharedAccessPolicy authorize(String authorizationHeader, String requestPath, Permission... anyOf) {
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
        if (requestPath != null && !reaches(resource, requestPath)) {
            throw unauthorized("The SAS token's resource '" + token.resource() + "' does not cover " + requestPath + ".");
        }
        for (Permission permission : anyOf) {
            if (policy.grants(permission)) {
                return policy;
            }
        }
        throw unauthorized("Policy '" + policy.name() + "' lacks the permission this operation needs ("
                + List.of(anyOf) + ").");
    }

    /** Whether a token for {@code resource} (decoded, lower case) covers the request path, segment by segment. */
    private boolean reaches(String resource, String requestPath) {
        String scope = stripTrailingSlashes(resource);
        if (scope.equals(hostName)) {
            return true;
        }
        String target = stripTrailingSlashes(hostName + percentDecode(requestPath).toLowerCase(Locale.ROOT));
        return target.equals(scope) || target.startsWith(scope + "/");
    }

    private static String stripTrailingSlashes(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '/') {
            end--;
        }
        return s.substring(0, end);
    }

    /** Path decoding (no '+' to space); a malformed escape leaves the path as sent. */
    static String percentDecode(String path) {
        if (path.indexOf('%') < 0) {
            return path;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(path.length());
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%') {
                if (i + 2 >= path.length()) {
                    return path;
                }
                int hi = Character.digit(path.charAt(i + 1), 16);
                int lo = Character.digit(path.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return path;
                }
                bytes.write(hi * 16 + lo);
                i += 2;
            } else {
                int cp = path.codePointAt(i);
                byte[] utf8 = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                bytes.write(utf8, 0, utf8.length);
                i += Character.charCount(cp) - 1;
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static RuntimeException unauthorized(String message) {
        return ErrorCode.UNAUTHORIZED.exception(message);
    }
}
