package dev.iotjobs.localhub.fault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.tls.TrustStores;

import java.net.SocketException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over TLS written byte by byte, for requests no HTTP client library sends (raw spaces, bad escapes,
 * huge request lines, half requests). One request per connection ({@code Connection: close}); TLS is verified
 * against the hub's own trust store, nothing JVM-wide is touched.
 */
final class RawHttp {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final String API = "api-version=2021-04-12";

    private final SSLContext tls;
    private final int port;

    RawHttp(LocalHub hub) {
        try {
            this.tls = TrustStores.trusting(hub.trustStore());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        this.port = hub.restPort();
    }

    static String ownerToken() {
        return token(WellKnownKeys.HOST_NAME, WellKnownKeys.IOTHUBOWNER_KEY, "iothubowner");
    }

    static String token(String resource, String key, String policy) {
        return SasToken.create(resource, key, policy, Instant.now().getEpochSecond() + 3600);
    }

    /**
     * An answer as a client reads it; {@code readError} is how reading ended when it did not end with the hub's
     * close_notify and end of stream (a reset, a TLS error), else null.
     */
    record Response(int status, Map<String, String> headers, String body, String readError) {
        /** The connection ended the orderly way: the whole answer, then close_notify and end of stream. */
        boolean endedCleanly() {
            return readError == null;
        }

        /** The numeric errorCode of IoT Hub's nested error body, or null when the body is not that shape. */
        Integer errorCode() {
            try {
                JsonNode outer = MAPPER.readTree(body);
                if (outer == null || !outer.path("Message").isTextual()
                        || !"".equals(outer.path("ExceptionMessage").asText(null))) {
                    return null;
                }
                JsonNode code = MAPPER.readTree(outer.get("Message").asText()).get("errorCode");
                return code != null && code.isIntegralNumber() ? code.asInt() : null;
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        /** A refusal in IoT Hub's shape: 4xx, nested errorCode of the same status family. */
        boolean isHubRefusal() {
            Integer code = errorCode();
            return status >= 400 && status < 500 && code != null && code / 1000 == status;
        }

        /**
         * A bulk registry request with failed entries, answered as IoT Hub does: 400, {@code iothub-errorcode:
         * BulkRegistryOperationFailure}, and the result ({@code isSuccessful: false}, each failed entry in
         * {@code errors} with its device id, error code name and reason).
         */
        boolean isBulkRegistryFailure() {
            if (status != 400 || !"BulkRegistryOperationFailure".equals(headers.get("iothub-errorcode"))) {
                return false;
            }
            try {
                JsonNode result = MAPPER.readTree(body);
                if (result == null || !result.path("isSuccessful").isBoolean() || result.get("isSuccessful").asBoolean()
                        || !result.path("errors").isArray() || result.get("errors").isEmpty()) {
                    return false;
                }
                for (JsonNode e : result.get("errors")) {
                    if (!e.path("errorCode").isTextual() || !e.path("errorStatus").isTextual() || !e.has("deviceId")) {
                        return false;
                    }
                }
                return true;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        @Override
        public String toString() {
            return status + " " + (body.length() > 300 ? body.substring(0, 300) + "..." : body)
                    + (readError == null ? "" : " (reading ended with " + readError + ")");
        }
    }

    /** A request with the owner token, Host and Content-Length set; {@code target} is sent exactly as given. */
    Response send(String method, String target, String body) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Authorization", ownerToken());
        return send(method, target, headers, body);
    }

    Response send(String method, String target, Map<String, String> headers, String body) throws IOException {
        StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: ").append(WellKnownKeys.HOST_NAME).append("\r\n");
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        if (body != null) {
            head.append("Content-Type: application/json; charset=utf-8\r\n");
        }
        head.append("Content-Length: ").append(bytes.length).append("\r\nConnection: close\r\n\r\n");
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.write(head.toString().getBytes(StandardCharsets.UTF_8));
        request.write(bytes);
        return exchange(request.toByteArray());
    }

    /** Sends raw bytes and reads the answer until the hub closes the connection. */
    Response exchange(byte[] request) throws IOException {
        try (SSLSocket socket = open()) {
            OutputStream out = socket.getOutputStream();
            out.write(request);
            out.flush();
            return read(socket.getInputStream());
        }
    }

    SSLSocket open() throws IOException {
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(WellKnownKeys.HOST_NAME, port);
        socket.setSoTimeout(30_000);
        SSLParameters p = socket.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(p);
        socket.startHandshake();
        return socket;
    }

    static Response read(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        String readError = null;
        try {
            while ((n = in.read(buf)) > 0) {
                all.write(buf, 0, n);
            }
        } catch (SSLException | SocketException e) {
            readError = e.toString(); // what was read counts; endedCleanly() tells whether the close was orderly
        }
        String text = all.toString(StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.") || end < 0) {
            throw new IOException("no HTTP response, got " + text.length() + " bytes: "
                    + text.substring(0, Math.min(200, text.length())));
        }
        int status = Integer.parseInt(text.substring(9, 12));
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line : text.substring(0, end).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
        }
        byte[] raw = all.toByteArray();
        String body = new String(raw, end + 4, raw.length - end - 4, StandardCharsets.UTF_8);
        return new Response(status, headers, body, readError);
    }
}
