package dev.iotjobs.localhub.fault;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.tls.TrustStores;

import java.io.EOFException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * MQTT 3.1.1 packets written by hand over verified TLS, for what no MQTT client sends: garbage, wrong lengths,
 * foreign topics, a client that never reads.
 */
final class RawMqtt implements AutoCloseable {
    static final int CONNACK = 2;
    static final int PUBLISH = 3;
    static final int SUBACK = 9;

    private final SSLSocket socket;
    private final DataInputStream in;

    private RawMqtt(SSLSocket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
    }

    /** Opens TLS to the hub's MQTT port; {@code receiveBuffer} > 0 shrinks the socket's receive buffer. */
    static RawMqtt open(LocalHub hub, int receiveBuffer) throws Exception {
        SSLContext tls = TrustStores.trusting(hub.trustStore());
        Socket plain = new Socket();
        if (receiveBuffer > 0) {
            plain.setReceiveBufferSize(receiveBuffer);
        }
        plain.connect(new InetSocketAddress(WellKnownKeys.HOST_NAME, hub.mqttPort()), 5000);
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, WellKnownKeys.HOST_NAME, hub.mqttPort(), true);
        SSLParameters p = socket.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(p);
        socket.setSoTimeout(15_000);
        socket.startHandshake();
        return new RawMqtt(socket);
    }

    void send(byte[] packet) throws IOException {
        socket.getOutputStream().write(packet);
        socket.getOutputStream().flush();
    }

    /** One packet: its type (high nibble of the first byte) and body; null when the hub closed the connection. */
    record Packet(int type, byte[] body) {
        String publishTopic() {
            int len = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
            return new String(body, 2, len, StandardCharsets.UTF_8);
        }
    }

    Packet read() throws IOException {
        int first;
        try {
            first = in.read();
        } catch (SSLException | SocketException e) {
            return null;
        }
        if (first < 0) {
            return null;
        }
        int length = 0;
        for (int shift = 0, b; ; shift += 7) {
            b = in.readUnsignedByte();
            length |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        byte[] body = new byte[length];
        in.readFully(body);
        return new Packet(first >> 4, body);
    }

    /** Reads packets until one of {@code type}; null if the hub closed the connection first. */
    Packet await(int type) throws IOException {
        for (Packet p; (p = read()) != null; ) {
            if (p.type() == type) {
                return p;
            }
        }
        return null;
    }

    /** True once the hub has closed the connection (reads and drops whatever is still buffered). */
    boolean closedByHub() throws IOException {
        try {
            while (read() != null) {
                // drain
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (EOFException | SSLException | SocketException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    static byte[] connect(String clientId, String username, String password, int keepAliveSeconds) {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        writeString(v, "MQTT");
        v.write(4);
        int flags = 0x00; // clean session 0, as the device SDK
        if (username != null) {
            flags |= 0x80;
        }
        if (password != null) {
            flags |= 0x40;
        }
        v.write(flags);
        v.write(keepAliveSeconds >> 8);
        v.write(keepAliveSeconds & 0xff);
        writeString(v, clientId);
        if (username != null) {
            writeString(v, username);
        }
        if (password != null) {
            writeString(v, password);
        }
        return packet(0x10, v.toByteArray());
    }

    static byte[] subscribe(int packetId, String filter, int qos) {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        v.write(packetId >> 8);
        v.write(packetId & 0xff);
        writeString(v, filter);
        v.write(qos);
        return packet(0x82, v.toByteArray());
    }

    static byte[] publish(String topic, byte[] payload, int qos, int packetId) {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        writeString(v, topic);
        if (qos > 0) {
            v.write(packetId >> 8);
            v.write(packetId & 0xff);
        }
        v.writeBytes(payload);
        return packet(0x30 | (qos << 1), v.toByteArray());
    }

    static byte[] packet(int firstByte, byte[] variable) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(firstByte);
        int length = variable.length;
        do {
            int b = length % 128;
            length /= 128;
            out.write(length > 0 ? b | 0x80 : b);
        } while (length > 0);
        out.writeBytes(variable);
        return out.toByteArray();
    }

    static void writeString(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(b.length >> 8);
        out.write(b.length & 0xff);
        out.writeBytes(b);
    }

}
