package dev.iotjobs.localhub.amqp.iothub;

import io.vertx.core.Handler;
import io.vertx.core.net.NetSocket;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.sasl.ProtonSaslAuthenticator;
import io.vertx.proton.sasl.ProtonSaslAuthenticatorFactory;
import org.apache.qpid.proton.engine.Sasl;
import org.apache.qpid.proton.engine.Transport;

import java.util.function.UnaryOperator;

/**
 * The SASL layer of the IoT Hub AMQP endpoint. The SDKs authenticate through claims-based security (put-token
 * on {@code $cbs}), so SASL only has to succeed: {@code ANONYMOUS} (Java SAS devices, the Java service SDK),
 * {@code PLAIN} (accepted; the token it may carry is not used, CBS is), or no SASL layer at all (Java X.509
 * devices and the Node SDKs send the AMQP header directly). vertx-proton's default authenticator refuses a
 * skipped SASL layer, hence this one. It also records the socket's {@link ConnectionFacts} on the connection
 * and lets {@code admit} amend them, or refuse the socket (null) before anything is read from it.
 */
final class IotHubSasl implements ProtonSaslAuthenticatorFactory {
    private final UnaryOperator<ConnectionFacts> admit;

    IotHubSasl(UnaryOperator<ConnectionFacts> admit) {
        this.admit = admit;
    }

    @Override
    public ProtonSaslAuthenticator create() {
        return new ProtonSaslAuthenticator() {
            private Sasl sasl;
            private ProtonConnection connection;
            private NetSocket socket;
            private boolean succeeded;
            private boolean admitted;

            @Override
            public void init(NetSocket socket, ProtonConnection connection, Transport transport) {
                this.socket = socket;
                this.connection = connection;
                sasl = transport.sasl();
                sasl.server();
                sasl.allowSkip(true);
                sasl.setMechanisms("ANONYMOUS", "PLAIN");
            }

            @Override
            public void process(Handler<Boolean> completion) {
                if (!admitted) {
                    // Decided on the first bytes, not at accept: the WebSocket bridge registers its loopback
                    // connection only once connected, and sends nothing before.
                    ConnectionFacts facts = admit.apply(ConnectionFacts.of(socket));
                    if (facts == null) {
                        socket.close();
                        completion.handle(true);
                        return;
                    }
                    facts.attachTo(connection);
                    admitted = true;
                }
                String[] mechanisms = sasl.getRemoteMechanisms();
                if (mechanisms.length > 0) {
                    String chosen = mechanisms[0];
                    if ("ANONYMOUS".equals(chosen) || "PLAIN".equals(chosen)) {
                        sasl.done(Sasl.SaslOutcome.PN_SASL_OK);
                        succeeded = true;
                    } else {
                        sasl.done(Sasl.SaslOutcome.PN_SASL_AUTH);
                    }
                    completion.handle(true);
                } else if (connection.getRemoteContainer() != null) {
                    succeeded = true; // the peer skipped SASL: its Open has been read
                    completion.handle(true);
                } else {
                    completion.handle(false);
                }
            }

            @Override
            public boolean succeeded() {
                return succeeded;
            }
        };
    }
}
