package dev.iotjobs.localhub.fault;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.c2d.C2dSend;
import dev.iotjobs.localhub.config.AmqpLimits;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.tls.TrustStores;
import io.vertx.proton.ProtonSession;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLSocket;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IoT Hub AMQP endpoint under odd and hostile clients: bytes that are not AMQP, links without a token, floods
 * of put-tokens, oversize messages, a client that never settles, and more connections, sessions and links than
 * allowed. Each is refused or bounded with a condition that says why, and the hub keeps serving well-behaved
 * clients. A hub of the test's own, on free ports, with small limits.
 */
class AmqpFaultIT {
    private static LocalHub hub;
    private static final String DEVICE = WellKnownKeys.DEFAULT_DEVICE_ID;

    @BeforeAll
    static void start() throws Exception {
        hub = LocalHub.start(HubConfig.builder().dataDirectory(Files.createTempDirectory("local-iothub-amqp-fault"))
                .inMemory(true).mqttPort(0).restPort(0)
                .amqpLimits(AmqpLimits.DEFAULTS.withConnections(6).withSessionsPerConnection(3).withLinksPerConnection(6))
                .build());
    }

    @AfterAll
    static void stop() {
        hub.stop();
    }

    private static String deviceToken(long lifetimeSeconds) {
        return SasToken.create(WellKnownKeys.HOST_NAME + "/devices/" + DEVICE, WellKnownKeys.DEFAULT_DEVICE_PRIMARY_KEY,
                null, Instant.now().getEpochSecond() + lifetimeSeconds);
    }

    /** A connection with a put-token accepted for the default device. */
    private static RawAmqp authenticated(long lifetimeSeconds) throws Exception {
        RawAmqp amqp = new RawAmqp(hub.amqpPort());
        RawAmqp.Link<io.vertx.proton.ProtonReceiver> replies = amqp.receiver("$cbs", 10);
        RawAmqp.Link<io.vertx.proton.ProtonSender> requests = amqp.sender("$cbs");
        replies.attached.get(20, TimeUnit.SECONDS);
        requests.attached.get(20, TimeUnit.SECONDS);
        amqp.on(c -> requests.link.send(RawAmqp.putToken(deviceToken(lifetimeSeconds), WellKnownKeys.HOST_NAME + "/devices/" + DEVICE)));
        Message reply = replies.messages.poll(20, TimeUnit.SECONDS);
        assertNotNull(reply, "put-token answered");
        assertEquals(200, RawAmqp.statusCode(reply));
        return amqp;
    }

    private static void assertHubStillServes() throws Exception {
        try (RawAmqp amqp = authenticated(3600)) {
            RawAmqp.Link<io.vertx.proton.ProtonSender> telemetry = amqp.sender("/devices/" + DEVICE + "/messages/events");
            telemetry.attached.get(20, TimeUnit.SECONDS);
            assertNull(telemetry.detached.getNow(null));
        }
    }

    private static SSLSocket tls() throws Exception {
        SSLSocket socket = (SSLSocket) TrustStores.trusting(hub.trustStore()).getSocketFactory()
                .createSocket("127.0.0.1", hub.amqpPort());
        socket.startHandshake();
        return socket;
    }

    @Test
    void bytesThatAreNotAmqp_beforeOrAfterTheProtocolHeader_closeOnlyThatConnection() throws Exception {
        try (SSLSocket socket = tls()) {
            OutputStream out = socket.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            RawAmqp.drain(socket, 1 << 20); // returns when the hub closes the connection
        }
        for (byte protocol : new byte[]{0, 3}) { // AMQP, and SASL
            try (SSLSocket socket = tls()) {
                OutputStream out = socket.getOutputStream();
                out.write(new byte[]{'A', 'M', 'Q', 'P', protocol, 1, 0, 0});
                byte[] garbage = new byte[4096];
                new Random(protocol).nextBytes(garbage);
                out.write(garbage);
                out.flush();
                byte[] back = RawAmqp.drain(socket, 1 << 20);
                assertTrue(back.length >= 8 && back[0] == 'A' && back[1] == 'M', "the hub answers with its header, then closes");
            }
        }
        assertHubStillServes();
    }

    @Test
    void aDeviceLinkWithoutAPutToken_isRefusedWithUnauthorizedAccess() throws Exception {
        try (RawAmqp amqp = new RawAmqp(hub.amqpPort())) {
            RawAmqp.Link<io.vertx.proton.ProtonSender> telemetry = amqp.sender("/devices/" + DEVICE + "/messages/events");
            ErrorCondition refused = telemetry.detached.get(20, TimeUnit.SECONDS);
            assertNotNull(refused);
            assertEquals("amqp:unauthorized-access", refused.getCondition().toString());
            assertTrue(refused.getDescription().contains("put-token"), refused.getDescription());

            RawAmqp.Link<io.vertx.proton.ProtonSender> unknown = amqp.sender("/no/such/node");
            assertEquals("amqp:not-found", unknown.detached.get(20, TimeUnit.SECONDS).getCondition().toString());
        }
    }

    @Test
    void aFloodOfBadPutTokens_isAnsweredOneByOne_withinTheCbsCredit() throws Exception {
        try (RawAmqp amqp = new RawAmqp(hub.amqpPort())) {
            RawAmqp.Link<io.vertx.proton.ProtonReceiver> replies = amqp.receiver("$cbs", 5000);
            RawAmqp.Link<io.vertx.proton.ProtonSender> requests = amqp.sender("$cbs");
            requests.attached.get(20, TimeUnit.SECONDS);
            int flood = 2000;
            int maxCredit = amqp.on(c -> {
                int most = requests.link.getCredit();
                for (int i = 0; i < flood; i++) {
                    requests.link.send(RawAmqp.putToken("SharedAccessSignature sr=x&sig=y&se=1", "flood-" + i));
                }
                return most;
            });
            assertTrue(maxCredit <= AmqpLimits.DEFAULTS.cbsCredit(), "the hub grants little credit: " + maxCredit);
            for (int i = 0; i < flood; i++) {
                Message reply = replies.messages.poll(20, TimeUnit.SECONDS);
                assertNotNull(reply, "reply " + i);
                assertEquals(401, RawAmqp.statusCode(reply));
            }
        }
        assertHubStillServes();
    }

    @Test
    void anOversizeTelemetryMessage_detachesThatLinkWithMessageSizeExceeded() throws Exception {
        try (RawAmqp amqp = authenticated(3600)) {
            RawAmqp.Link<io.vertx.proton.ProtonSender> telemetry = amqp.sender("/devices/" + DEVICE + "/messages/events");
            telemetry.attached.get(20, TimeUnit.SECONDS);
            amqp.on(c -> {
                Message big = Message.Factory.create();
                big.setBody(new Data(new Binary(new byte[300 * 1024])));
                return telemetry.link.send(big);
            });
            ErrorCondition detached = telemetry.detached.get(20, TimeUnit.SECONDS);
            assertNotNull(detached);
            assertEquals("amqp:link:message-size-exceeded", detached.getCondition().toString());
        }
        assertHubStillServes();
    }

    @Test
    void aDeviceThatNeverSettles_holdsOneCloudToDeviceMessageAtATime() throws Exception {
        String id = DEVICE;
        hub.cloudToDevice().purge(id);
        for (int i = 0; i < 5; i++) {
            hub.cloudToDevice().send(C2dSend.of(id, ("m" + i).getBytes(StandardCharsets.UTF_8)));
        }
        try (RawAmqp amqp = authenticated(3600)) {
            RawAmqp.Link<io.vertx.proton.ProtonReceiver> c2d = amqp.receiver("/devices/" + id + "/messages/devicebound", 100);
            assertNotNull(c2d.messages.poll(20, TimeUnit.SECONDS), "the first message");
            assertNull(c2d.messages.poll(1, TimeUnit.SECONDS), "no second one while the first is unsettled");
            assertEquals(5, hub.cloudToDevice().depth(id), "nothing is lost");
        }
        hub.cloudToDevice().purge(id);
    }

    @Test
    void aNewerConnectionOfTheSameDevice_stealsItsLinks() throws Exception {
        try (RawAmqp older = authenticated(3600); RawAmqp newer = authenticated(3600)) {
            RawAmqp.Link<io.vertx.proton.ProtonSender> first = older.sender("/devices/" + DEVICE + "/messages/events");
            first.attached.get(20, TimeUnit.SECONDS);
            RawAmqp.Link<io.vertx.proton.ProtonSender> second = newer.sender("/devices/" + DEVICE + "/messages/events");
            second.attached.get(20, TimeUnit.SECONDS);
            ErrorCondition stolen = first.detached.get(20, TimeUnit.SECONDS);
            assertNotNull(stolen);
            assertEquals("amqp:link:stolen", stolen.getCondition().toString());
            assertNull(second.detached.getNow(null), "the newer connection keeps its link");
        }
    }

    @Test
    void anExpiredTokenClosesTheLinksItAuthorised() throws Exception {
        try (RawAmqp amqp = authenticated(2)) {
            RawAmqp.Link<io.vertx.proton.ProtonSender> telemetry = amqp.sender("/devices/" + DEVICE + "/messages/events");
            telemetry.attached.get(20, TimeUnit.SECONDS);
            ErrorCondition detached = telemetry.detached.get(20, TimeUnit.SECONDS);
            assertNotNull(detached);
            assertEquals("amqp:unauthorized-access", detached.getCondition().toString());
        }
    }

    @Test
    void moreSessionsLinksOrConnectionsThanAllowed_areRefusedWithResourceLimitExceeded() throws Exception {
        try (RawAmqp amqp = new RawAmqp(hub.amqpPort())) {
            CompletableFuture<ErrorCondition> fourth = new CompletableFuture<>();
            amqp.on(c -> {
                for (int i = 0; i < 4; i++) {
                    ProtonSession s = c.createSession();
                    boolean last = i == 3;
                    s.closeHandler(ar -> {
                        if (last) {
                            fourth.complete(s.getRemoteCondition());
                        }
                    });
                    s.open();
                }
                return null;
            });
            // the connection's own default session for links counts too: at most 3 in all
            ErrorCondition refused = fourth.get(20, TimeUnit.SECONDS);
            assertNotNull(refused);
            assertEquals("amqp:resource-limit-exceeded", refused.getCondition().toString());
        }
        try (RawAmqp amqp = new RawAmqp(hub.amqpPort())) {
            ErrorCondition refused = null;
            for (int i = 0; i < 7 && refused == null; i++) {
                RawAmqp.Link<io.vertx.proton.ProtonReceiver> link = amqp.receiver("$cbs", 1);
                CompletableFuture.anyOf(link.attached, link.detached).get(20, TimeUnit.SECONDS);
                Thread.sleep(50);
                refused = link.detached.getNow(null);
            }
            assertNotNull(refused, "the seventh link is refused");
            assertEquals("amqp:resource-limit-exceeded", refused.getCondition().toString());
        }
        java.util.List<RawAmqp> open = new java.util.ArrayList<>();
        try {
            ErrorCondition refused = null;
            for (int i = 0; i < 7 && refused == null; i++) {
                RawAmqp amqp = new RawAmqp(hub.amqpPort());
                open.add(amqp);
                refused = amqp.closed.getNow(null);
                if (refused == null && i == 6) {
                    refused = amqp.closed.get(20, TimeUnit.SECONDS);
                }
            }
            assertNotNull(refused, "the seventh connection is refused");
            assertEquals("amqp:resource-limit-exceeded", refused.getCondition().toString());
        } finally {
            open.forEach(RawAmqp::close);
        }
        assertHubStillServes();
    }
}
