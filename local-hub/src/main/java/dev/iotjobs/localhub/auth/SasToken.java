package dev.iotjobs.localhub.auth;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * A parsed {@code SharedAccessSignature sr=..&sig=..&se=..[&skn=..]} token and the HMAC checks on it.
 * Field order is free; {@code sr} is kept as sent because signers differ in how they encode it.
 */
public record SasToken(String resourceAsSent, String signature, long expiry, String keyName) {
    private static final String PREFIX = "SharedAccessSignature ";

    /** Parses a token; returns null when it is not a well-formed SAS token. */
    public static SasToken parse(String token) {
        if (token == null || !token.startsWith(PREFIX)) {
            return null;
        }
        Map<String, String> fields = new HashMap<>();
        for (String pair : token.substring(PREFIX.length()).trim().split("&")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                return null;
            }
            fields.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        String sr = fields.get("sr");
        String sig = fields.get("sig");
        String se = fields.get("se");
        if (sr == null || sig == null || se == null) {
            return null;
        }
        try {
            return new SasToken(sr, URLDecoder.decode(sig, StandardCharsets.UTF_8), Long.parseLong(se),
                    fields.get("skn"));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The resource URI with percent-encoding removed, e.g. {@code 127.0.0.1/devices/dev1}. */
    public String resource() {
        return URLDecoder.decode(resourceAsSent, StandardCharsets.UTF_8);
    }

    public boolean isExpired(long nowEpochSeconds) {
        return expiry <= nowEpochSeconds;
    }

    /**
     * True if the signature is an HMAC-SHA256 of {@code sr + "\n" + se} under the given base64 key,
     * for any of the ways clients encode {@code sr} (as sent, decoded, or form-encoded as a whole).
     */
    public boolean isSignedWith(String base64Key) {
        if (base64Key == null) {
            return false;
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(base64Key);
        } catch (IllegalArgumentException e) {
            return false;
        }
        String decoded = resource();
        for (String sr : new String[]{resourceAsSent, decoded, URLEncoder.encode(decoded, StandardCharsets.UTF_8)}) {
            if (constantTimeEquals(sign(key, sr + "\n" + expiry), signature)) {
                return true;
            }
        }
        return false;
    }

    /**
     * As {@link #isSignedWith(String)}, but with the UTF-8 bytes of the key's text as the HMAC key: how Event Hubs
     * and Service Bus clients sign ({@code EventHubSharedKeyCredential}), where the IoT SDKs base64-decode it first.
     */
    public boolean isSignedWithKeyText(String keyText) {
        if (keyText == null) {
            return false;
        }
        byte[] key = keyText.getBytes(StandardCharsets.UTF_8);
        String decoded = resource();
        for (String sr : new String[]{resourceAsSent, decoded, URLEncoder.encode(decoded, StandardCharsets.UTF_8)}) {
            if (constantTimeEquals(sign(key, sr + "\n" + expiry), signature)) {
                return true;
            }
        }
        return false;
    }

    /** Builds a token (used by the hub's own tools: fleet simulator, tests). */
    public static String create(String resource, String base64Key, String keyName, long expiry) {
        String sr = URLEncoder.encode(resource, StandardCharsets.UTF_8);
        String sig = sign(Base64.getDecoder().decode(base64Key), sr + "\n" + expiry);
        return PREFIX + "sr=" + sr + "&sig=" + URLEncoder.encode(sig, StandardCharsets.UTF_8) + "&se=" + expiry
                + (keyName == null ? "" : "&skn=" + keyName);
    }

    private static String sign(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return Base64.getEncoder().encodeToString(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    private static boolean constantTimeEquals(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
