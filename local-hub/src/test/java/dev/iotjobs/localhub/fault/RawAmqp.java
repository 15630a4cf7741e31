package dev.iotjobs.localhub.fault;

import io.vertx.core.Vertx;
import io.vertx.proton.ProtonClient;
import io.vertx.proton.ProtonClientOptions;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A hand-driven AMQP client for the fault tests (vertx-proton's client over TLS, trusting any certificate: these
 * tests are about what the hub does with odd AMQP, not about TLS), and raw TLS sockets for bytes that are not AMQP.
 */
final class RawAmqp implements AutoCloseable {
    final Vertx vertx = Vertx.vertx();
    final ProtonConnection connection;
    /** The error condition the hub closed the connection with, once it did. */
    final CompletableFuture<ErrorCondition> closed = new CompletableFuture<>();

    RawAmqp(int port) throws Exception {
        this(port, true);
    }

    /** {@code tls} false: plain AMQP (the Event Hubs-compatible endpoint). */
    RawAmqp(int port, boolean tls) throws Exception {
        CompletableFuture<ProtonConnection> opened = new CompletableFuture<>();
        ProtonClientOptions options = tls ? new ProtonClientOptions().setSsl(true).setTrustAll(true)
                .setHostnameVerificationAlgorithm("") : new ProtonClientOptions();
        vertx.runOnContext(v -> ProtonClient.create(vertx).connect(options, "127.0.0.1", port, ar -> {
            if (ar.failed()) {
                opened.completeExceptionally(ar.cause());
                return;
            }
            ProtonConnection c = ar.result();
            c.setHostname("127.0.0.1");
            c.openHandler(o -> opened.complete(c));
            c.closeHandler(x -> closed.complete(c.getRemoteCondition()));
            c.disconnectHandler(x -> closed.complete(c.getRemoteCondition()));
            c.open();
        }));
        connection = opened.get(20, TimeUnit.SECONDS);
    }

    /** Runs on the connection's event loop and waits for the result. */
    <T> T on(java.util.function.Function<ProtonConnection, T> action) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        vertx.runOnContext(v -> {
            try {
                result.complete(action.apply(connection));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result.get(20, TimeUnit.SECONDS);
    }

    /** An attached sender to {@code address}: completes with the hub's attach, or the detach condition if refused. */
    Link<ProtonSender> sender(String address) throws Exception {
        Link<ProtonSender> link = new Link<>();
        on(c -> {
            ProtonSender s = c.createSender(address);
            link.link = s;
            s.openHandler(ar -> link.attached.complete(null));
            s.closeHandler(ar -> link.detached.complete(s.getRemoteCondition()));
            s.detachHandler(ar -> link.detached.complete(s.getRemoteCondition()));
            return s.open();
        });
        return link;
    }

    /** An attached receiver from {@code address}; deliveries go to {@link Link#messages} unsettled. */
    Link<ProtonReceiver> receiver(String address, int credit) throws Exception {
        Link<ProtonReceiver> link = new Link<>();
        on(c -> {
            ProtonReceiver r = c.createReceiver(address);
            link.link = r;
            r.setAutoAccept(false).setPrefetch(0);
            r.handler((delivery, message) -> link.messages.add(message));
            r.openHandler(ar -> {
                link.attached.complete(null);
                r.flow(credit);
            });
            r.closeHandler(ar -> link.detached.complete(r.getRemoteCondition()));
            r.detachHandler(ar -> link.detached.complete(r.getRemoteCondition()));
            return r.open();
        });
        return link;
    }

    static final class Link<L> {
        L link;
        final CompletableFuture<Void> attached = new CompletableFuture<>();
        final CompletableFuture<ErrorCondition> detached = new CompletableFuture<>();
        final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
    }

    /** A put-token request as the device SDK sends it. */
    static Message putToken(String token, String audience) {
        Message m = Message.Factory.create();
        m.setMessageId(UUID.randomUUID());
        m.setReplyTo("cbs");
        m.setAddress("$cbs");
        m.setApplicationProperties(new ApplicationProperties(Map.of("operation", "put-token",
                "type", "servicebus.windows.net:sastoken", "name", audience)));
        m.setBody(new AmqpValue(token));
        return m;
    }

    static int statusCode(Message reply) {
        return (Integer) reply.getApplicationProperties().getValue().get("status-code");
    }

    /** Reads until the hub closes the socket (or {@code max} bytes); returns what came back. */
    static byte[] drain(SSLSocket socket, int max) throws IOException {
        socket.setSoTimeout(20_000);
        InputStream in = socket.getInputStream();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            int n;
            while (out.size() < max && (n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
        } catch (javax.net.ssl.SSLException | java.net.SocketException e) {
            // closed by the hub mid-read
        }
        return out.toByteArray();
    }

    @Override
    public void close() {
        try {
            on(ProtonConnection::close);
        } catch (Exception ignored) {
            // already gone
        }
        vertx.close();
    }
}
