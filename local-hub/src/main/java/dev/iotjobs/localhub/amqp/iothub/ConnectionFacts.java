package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.tls.DeviceCertificates;
import io.vertx.core.net.NetSocket;
import io.vertx.proton.ProtonConnection;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.security.cert.X509Certificate;

/**
 * What the hub knows of an AMQP connection's socket before AMQP starts: the TLS client certificate chain (X.509
 * devices authenticate with it, not with a token), and the peer's port (how the WebSocket bridge recognises its
 * own loopback connections). Captured when the connection's SASL layer is set up, kept in the connection's
 * attachments.
 *
 * @param clientCertificates the TLS client certificate chain, or null when none was presented (or no TLS)
 * @param remotePort         the peer's TCP port
 * @param socket             the connection's socket (to see whether the client reads what the hub writes), or null
 */
public record ConnectionFacts(X509Certificate[] clientCertificates, int remotePort, NetSocket socket) {
    private static final String KEY = "iothub.connection-facts";

    static ConnectionFacts of(NetSocket socket) {
        X509Certificate[] chain = null;
        if (socket.isSsl() && socket.sslSession() != null) {
            try {
                chain = DeviceCertificates.x509(socket.sslSession().getPeerCertificates());
            } catch (SSLPeerUnverifiedException e) {
                chain = null;
            }
        }
        return new ConnectionFacts(chain, socket.remoteAddress() == null ? -1 : socket.remoteAddress().port(), socket);
    }

    void attachTo(ProtonConnection connection) {
        connection.attachments().set(KEY, ConnectionFacts.class, this);
    }

    static ConnectionFacts of(ProtonConnection connection) {
        ConnectionFacts facts = connection.attachments().get(KEY, ConnectionFacts.class);
        return facts == null ? new ConnectionFacts(null, -1, null) : facts;
    }

    /** Facts with the client certificates of the WebSocket a bridged connection came through. */
    ConnectionFacts withCertificates(X509Certificate[] chain) {
        return new ConnectionFacts(chain, remotePort, socket);
    }
}
