package dev.iotjobs.localhub.telemetry;

import dev.iotjobs.localhub.model.IdentityKey;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + m.body().length);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            string(out, m.identity().deviceId());
            string(out, m.identity().moduleId());
            out.writeInt(m.body().length);
            out.write(m.body());
            Map<String, String> props = m.applicationProperties() == null ? Map.of() : m.applicationProperties();
            out.writeInt(props.size());
            for (Map.Entry<String, String> e : props.entrySet()) {
                string(out, e.getKey());
                string(out, e.getValue());
            }
            string(out, m.messageId());
            string(out, m.correlationId());
            string(out, m.contentType());
            string(out, m.contentEncoding());
            out.writeBoolean(m.creationTime() != null);
            if (m.creationTime() != null) {
                out.writeLong(m.creationTime().getEpochSecond());
                out.writeInt(m.creationTime().getNano());
            }
            string(out, m.componentName());
            string(out, m.authMethod());
            string(out, m.authGenerationId());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static TelemetryMessage decode(ByteBuffer buffer) throws IOException {
        byte[] array = new byte[buffer.remaining()];
        buffer.get(array);
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(array));
        byte version = in.readByte();
        if (version != VERSION) {
            throw new IOException("unknown telemetry record version " + version);
        }
        String deviceId = string(in);
        String moduleId = string(in);
        byte[] body = new byte[in.readInt()];
        in.readFully(body);
        int count = in.readInt();
        Map<String, String> props = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            props.put(string(in), string(in));
        }
        String messageId = string(in);
        String correlationId = string(in);
        String contentType = string(in);
        String contentEncoding = string(in);
        Instant created = in.readBoolean() ? Instant.ofEpochSecond(in.readLong(), in.readInt()) : null;
        return new TelemetryMessage(new IdentityKey(deviceId, moduleId), body, props, messageId, correlationId,
                contentType, contentEncoding, created, string(in), string(in), string(in));
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String string(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
