package dev.iotjobs.localhub.amqp;

import io.vertx.core.Handler;
import io.vertx.core.net.NetSocket;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.sasl.ProtonSaslAuthenticator;
import org.apache.qpid.proton.engine.Sasl;
import org.apache.qpid.proton.engine.Transport;

import java.nio.charset.StandardCharsets;

/**
 * The SASL layer of the hub's AMQP listeners. Every Azure SDK authenticates through claims-based security
 * ({@code $cbs}) after the connection is open, so SASL only has to let them in: it offers {@code ANONYMOUS} and
 * {@code PLAIN}, succeeds for either, and also lets a client skip SASL altogether (the Java device SDK with X.509
 * and the Node SDKs send the AMQP header directly; vertx-proton's default authenticator would cut them off).
 * A {@code PLAIN} password (IoT Hub accepts a SAS token there: "Protocol specifics" in the IoT Hub SAS docs) is kept
 * on the connection for the adapter: {@link #plainCredentials(ProtonConnection)}.
 */
final class LenientSaslAuthenticator implements ProtonSaslAuthenticator {
    static final String ANONYMOUS = "ANONYMOUS";
    static final String PLAIN = "PLAIN";

    /** user and password of a {@code PLAIN} exchange. */
    record PlainCredentials(String user, String password) {
    }

    private Sasl sasl;
    private ProtonConnection connection;
    private boolean succeeded;

    static PlainCredentials plainCredentials(ProtonConnection connection) {
        return connection.attachments().get(PlainCredentials.class.getName(), PlainCredentials.class);
    }

    @Override
    public void init(NetSocket socket, ProtonConnection protonConnection, Transport transport) {
        connection = protonConnection;
        sasl = transport.sasl();
        sasl.server();
        sasl.allowSkip(true);
        sasl.setMechanisms(ANONYMOUS, PLAIN);
    }

    @Override
    public void process(Handler<Boolean> completionHandler) {
        String[] remote = sasl.getRemoteMechanisms();
        if (remote.length > 0) {
            String mechanism = remote[0];
            if (PLAIN.equals(mechanism)) {
                byte[] response = new byte[sasl.pending()];
                sasl.recv(response, 0, response.length);
                // \0user\0password (RFC 4616); the optional authorization identity before the first \0 is ignored.
                String text = new String(response, StandardCharsets.UTF_8);
                String[] parts = text.split("\0", -1);
                if (parts.length == 3) {
                    connection.attachments().set(PlainCredentials.class.getName(), PlainCredentials.class,
                            new PlainCredentials(parts[1], parts[2]));
                }
                succeeded = parts.length == 3;
            } else {
                succeeded = ANONYMOUS.equals(mechanism);
            }
            sasl.done(succeeded ? Sasl.SaslOutcome.PN_SASL_OK : Sasl.SaslOutcome.PN_SASL_AUTH);
            completionHandler.handle(true);
        } else if (connection.getRemoteContainer() != null) {
            // The client skipped SASL: its Open has been decoded already (and still reaches the open handler).
            succeeded = true;
            completionHandler.handle(true);
        } else {
            completionHandler.handle(false);
        }
    }

    @Override
    public boolean succeeded() {
        return succeeded;
    }
}
