package dev.iotjobs.localhub.amqp;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonServer;
import io.vertx.proton.ProtonServerOptions;
import io.vertx.proton.ProtonSession;

/**
 * Starts an AMQP 1.0 listener of the hub (vertx-proton), the shared set-up of every AMQP endpoint: the lenient SASL
 * layer ({@link LenientSaslAuthenticator}), an Open naming the hub, every remote session accepted, heartbeats, and
 * a frame size the Azure clients are happy with. The caller adds its links in {@code onConnection} (called on the
 * connection's event loop before the connection is opened) and may set TLS on the options (a listener on 5671
 * passes {@code options.setSsl(true).setKeyCertOptions(...)}).
 */
public final class AmqpServer {
    /** Idle timeout advertised to clients, in ms (proton closes a connection silent for twice this). */
    public static final int HEARTBEAT_MILLIS = 60_000;
    public static final int MAX_FRAME_SIZE = 65_536;

    private AmqpServer() {
    }

    /** Options for a listener on {@code host:port}: heartbeat and frame size set, no TLS. */
    public static ProtonServerOptions options(String host, int port) {
        ProtonServerOptions options = new ProtonServerOptions().setHeartbeat(HEARTBEAT_MILLIS).setMaxFrameSize(MAX_FRAME_SIZE);
        options.setHost(host).setPort(port);
        return options;
    }

    /**
     * Listens; completes with the server (its {@link ProtonServer#actualPort()}) or fails with the bind error.
     *
     * @param containerId    the container id in the hub's Open (the hub's host name)
     * @param onConnection   installs the caller's handlers on a new connection (sender/receiver open handlers)
     */
    public static Future<ProtonServer> listen(Vertx vertx, ProtonServerOptions options, String containerId,
                                              Handler<ProtonConnection> onConnection) {
        Promise<ProtonServer> listening = Promise.promise();
        ProtonServer server = ProtonServer.create(vertx, options);
        server.setAdvertiseAnonymousRelayCapability(false);
        server.saslAuthenticatorFactory(LenientSaslAuthenticator::new);
        server.connectHandler(connection -> {
            connection.setContainer(containerId);
            // Without these, vertx-proton leaves a remote Begin or Attach unanswered until the client times out.
            connection.sessionOpenHandler(ProtonSession::open);
            connection.senderOpenHandler(sender -> Links.refuse(sender, Links.NOT_IMPLEMENTED, "This endpoint has no such node."));
            connection.receiverOpenHandler(receiver -> Links.refuse(receiver, Links.NOT_IMPLEMENTED, "This endpoint has no such node."));
            connection.openHandler(opened -> {
                if (opened.succeeded()) {
                    connection.open();
                }
            });
            connection.closeHandler(closed -> {
                connection.close();
                connection.disconnect();
            });
            connection.disconnectHandler(ProtonConnection::disconnect);
            onConnection.handle(connection);
        });
        server.listen(options.getPort(), options.getHost(), ar -> {
            if (ar.succeeded()) {
                listening.complete(ar.result());
            } else {
                listening.fail(ar.cause());
            }
        });
        return listening.future();
    }

    /** The password of a SASL {@code PLAIN} exchange on this connection (a SAS token), or null. */
    public static String plainPassword(ProtonConnection connection) {
        LenientSaslAuthenticator.PlainCredentials credentials = LenientSaslAuthenticator.plainCredentials(connection);
        return credentials == null ? null : credentials.password();
    }

    /** The user of a SASL {@code PLAIN} exchange on this connection (e.g. {@code service@sas.root.hub}), or null. */
    public static String plainUser(ProtonConnection connection) {
        LenientSaslAuthenticator.PlainCredentials credentials = LenientSaslAuthenticator.plainCredentials(connection);
        return credentials == null ? null : credentials.user();
    }
}
