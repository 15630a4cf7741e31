package dev.iotjobs.fleet;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;

/**
 * IoT Hub shared access signatures, as any client signs them: HMAC-SHA256 of the URL-encoded resource, a
 * newline and the expiry (epoch seconds), under the base64 key.
 */
final class SasTokens {
    private SasTokens() {
    }

    /** {@code SharedAccessSignature sr=..&sig=..&se=..[&skn=..]}; keyName is null for a device key. */
    static String create(String resource, String base64Key, String keyName, long expiry) {
        String sr = URLEncoder.encode(resource, StandardCharsets.UTF_8);
        String sig;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(base64Key), "HmacSHA256"));
            sig = Base64.getEncoder().encodeToString(mac.doFinal((sr + "\n" + expiry).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
        return "SharedAccessSignature sr=" + sr + "&sig=" + URLEncoder.encode(sig, StandardCharsets.UTF_8)
                + "&se=" + expiry + (keyName == null ? "" : "&skn=" + keyName);
    }
}
