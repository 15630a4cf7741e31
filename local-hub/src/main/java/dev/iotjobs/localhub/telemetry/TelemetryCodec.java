package dev.iotjobs.localhub.telemetry;

import dev.iotjobs.localhub.model.IdentityKey;

import java.io.EOFException;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The telemetry log's record format: one message as bytes. Format version 1: a version byte, then the fields of
 * {@link TelemetryMessage} in declaration order; strings as a presence flag plus UTF-8 with an int length (device
 * bodies and property values may exceed 64 KB in total, so not {@code writeUTF}).
 */
final class TelemetryCodec {
    static final byte VERSION = 1;

    private TelemetryCodec() {
    }

    static byte[] encode(TelemetryMessage m) {
        // The strings' UTF-8 bytes first, so the record is written into one array of its exact size.
        Map<String, String> props = m.applicationProperties() == null ? Map.of() : m.applicationProperties();
        byte[][] strings = new byte[10 + 2 * props.size()][];
        int n = 0;
        strings[n++] = utf8(m.identity().deviceId());
        strings[n++] = utf8(m.identity().moduleId());
        for (Map.Entry<String, String> e : props.entrySet()) {
            strings[n++] = utf8(e.getKey());
            strings[n++] = utf8(e.getValue());
        }
        strings[n++] = utf8(m.messageId());
        strings[n++] = utf8(m.correlationId());
        strings[n++] = utf8(m.contentType());
        strings[n++] = utf8(m.contentEncoding());
        strings[n++] = utf8(m.componentName());
        strings[n++] = utf8(m.authMethod());
        strings[n++] = utf8(m.authGenerationId());
        int size = 1 + 4 + m.body().length + 4 + 1 + (m.creationTime() != null ? 12 : 0);
        for (int i = 0; i < n; i++) {
            size += 4 + (strings[i] == null ? 0 : strings[i].length);
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put(VERSION);
        int s = 0;
        string(out, strings[s++]);
        string(out, strings[s++]);
        out.putInt(m.body().length);
        out.put(m.body());
        out.putInt(props.size());
        for (int i = 0; i < props.size(); i++) {
            string(out, strings[s++]);
            string(out, strings[s++]);
        }
        string(out, strings[s++]);
        string(out, strings[s++]);
        string(out, strings[s++]);
        string(out, strings[s++]);
        out.put((byte) (m.creationTime() != null ? 1 : 0));
        if (m.creationTime() != null) {
            out.putLong(m.creationTime().getEpochSecond());
            out.putInt(m.creationTime().getNano());
        }
        string(out, strings[s++]);
        string(out, strings[s++]);
        string(out, strings[s]);
        return out.array();
    }

    static TelemetryMessage decode(ByteBuffer buffer) throws IOException {
        try {
            ByteBuffer in = buffer.slice();
            buffer.position(buffer.limit());
            byte version = in.get();
            if (version != VERSION) {
                throw new IOException("unknown telemetry record version " + version);
            }
            String deviceId = string(in);
            String moduleId = string(in);
            int bodyLength = in.getInt();
            if (bodyLength < 0 || bodyLength > in.remaining()) {
                throw new IOException("telemetry record's body length " + bodyLength + " is out of range");
            }
            byte[] body = new byte[bodyLength];
            in.get(body);
            int count = in.getInt();
            Map<String, String> props = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                props.put(string(in), string(in));
            }
            String messageId = string(in);
            String correlationId = string(in);
            String contentType = string(in);
            String contentEncoding = string(in);
            Instant created = in.get() != 0 ? Instant.ofEpochSecond(in.getLong(), in.getInt()) : null;
            return new TelemetryMessage(new IdentityKey(deviceId, moduleId), body, props, messageId, correlationId,
                    contentType, contentEncoding, created, string(in), string(in), string(in));
        } catch (BufferUnderflowException e) {
            throw new EOFException("telemetry record ends early");
        }
    }

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    private static void string(ByteBuffer out, byte[] b) {
        if (b == null) {
            out.putInt(-1);
            return;
        }
        out.putInt(b.length);
        out.put(b);
    }

    private static String string(ByteBuffer in) throws IOException {
        int n = in.getInt();
        if (n < 0) {
            return null;
        }
        if (n > in.remaining()) {
            throw new EOFException("telemetry record ends early");
        }
        String s = new String(in.array(), in.arrayOffset() + in.position(), n, StandardCharsets.UTF_8);
        in.position(in.position() + n);
        return s;
    }
}
