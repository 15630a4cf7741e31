package dev.iotjobs.localhub.edge;

import dev.iotjobs.localhub.auth.DeviceAuthenticator;
import dev.iotjobs.localhub.auth.ModuleAuthenticator;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.c2d.C2dDelivery;
import dev.iotjobs.localhub.c2d.C2dQueues;
import dev.iotjobs.localhub.c2d.C2dSend;
import dev.iotjobs.localhub.c2d.C2dSettings;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.DeviceStore;
import dev.iotjobs.localhub.device.TwinService;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.model.IdentityKey;
import dev.iotjobs.localhub.session.SessionStore;
import dev.iotjobs.localhub.store.MemoryHubStore;
import dev.iotjobs.localhub.telemetry.TelemetrySink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device edge without any protocol: a recording {@link EdgeLink} stands for a transport, as an AMQP adapter
 * will (timed C2D locks, abandon).
 */
class DeviceEdgeTest {
    private static final String KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    private final Clock clock = Clock.systemUTC();
    private MemoryHubStore store;
    private DeviceRegistry devices;
    private C2dQueues c2d;
    private DeviceEdge edge;

    /** What a transport would send to the device. */
    static final class RecordingLink implements EdgeLink {
        final List<String> sent = new CopyOnWriteArrayList<>();
        final List<C2dDelivery> messages = new CopyOnWriteArrayList<>();
        final Duration lock;

        RecordingLink(Duration lock) {
            this.lock = lock;
        }

        @Override
        public boolean methodRequest(String requestId, String methodName, byte[] payloadJson) {
            sent.add("method " + methodName + " " + requestId);
            return true;
        }

        @Override
        public void desiredPatch(long version, byte[] patchJson) {
            sent.add("desired " + version);
        }

        @Override
        public boolean c2dMessage(C2dDelivery delivery) {
            messages.add(delivery);
            return true;
        }

        @Override
        public void disconnect(String reason) {
            sent.add("disconnect " + reason);
        }

        @Override
        public Duration c2dLock() {
            return lock;
        }
    }

    @BeforeEach
    void setUp() {
        store = new MemoryHubStore();
        devices = new DeviceRegistry(new DeviceStore(store), clock);
        DeviceRegistry modules = new DeviceRegistry(DeviceStore.modules(store), clock);
        devices.ensureDevice("d1", "gen-1", KEY, KEY);
        c2d = new C2dQueues(store, devices, clock, C2dSettings.DEFAULTS);
        edge = new DeviceEdge(new DeviceAuthenticator(devices, clock), new ModuleAuthenticator(devices, modules, clock),
                devices, modules, new TwinService(devices), new TwinService(modules), c2d, TelemetrySink.DROP,
                new SessionStore(store), clock, new DeviceEdge.Settings(Duration.ofHours(1), 16));
    }

    @AfterEach
    void tearDown() {
        edge.close();
        c2d.close();
    }

    private static EdgeCredentials sas(String deviceId) {
        return new EdgeCredentials(IdentityKey.device(deviceId), SasToken.create(WellKnownKeys.HOST_NAME + "/devices/"
                + deviceId, KEY, null, Instant.now().getEpochSecond() + 600), null);
    }

    @Test
    void wrongCredentialsAreRefused_connectAndCloseAreTheConnectionState() throws Exception {
        assertThrows(EdgeRefusedException.class, () -> edge.open(new EdgeCredentials(IdentityKey.device("d1"),
                "SharedAccessSignature sr=x&sig=y&se=1", null), new RecordingLink(null), false));
        assertThrows(EdgeRefusedException.class, () -> edge.open(sas("nobody"), new RecordingLink(null), false));
        EdgeSession s = edge.open(sas("d1"), new RecordingLink(null), false);
        s.start();
        assertTrue(devices.find("d1").runtime().connected());
        assertEquals(1, edge.connectedCount());
        s.closed();
        assertFalse(devices.find("d1").runtime().connected());
        assertEquals(0, edge.connectedCount());
    }

    @Test
    void aResumedSessionGetsAWaitingMethodCallOnlyOnceItSubscribedAgain() throws Exception {
        EdgeSession first = edge.open(sas("d1"), new RecordingLink(null), false);
        first.start();
        first.subscribe(Feature.METHODS);
        first.closed();

        RecordingLink link = new RecordingLink(null);
        EdgeSession second = edge.open(sas("d1"), link, false);
        assertTrue(second.sessionPresent());
        second.start();
        assertTrue(edge.isMethodReady("d1"), "the remembered session listens to methods");
        CompletableFuture<MethodResponse> answer = edge.sendMethodRequest("d1", "wake", "null");
        assertEquals(List.of(), link.sent, "held until the device subscribes again");
        second.subscribe(Feature.METHODS);
        assertEquals(1, link.sent.size());
        String requestId = link.sent.get(0).substring("method wake ".length());
        second.answerMethod(requestId, 200, Json.NODES.textNode("ok"));
        assertEquals(200, answer.get(1, TimeUnit.SECONDS).status());
    }

    @Test
    void aNewerConnectionTakesOver_andACleanSessionForgetsTheOldOne() throws Exception {
        RecordingLink old = new RecordingLink(null);
        EdgeSession first = edge.open(sas("d1"), old, false);
        first.start();
        first.subscribe(Feature.DESIRED);
        EdgeSession second = edge.open(sas("d1"), new RecordingLink(null), true);
        assertTrue(old.sent.get(0).startsWith("disconnect"), old.sent.toString());
        assertFalse(second.sessionPresent(), "clean session");
        first.closed();
        assertTrue(devices.find("d1").runtime().connected(), "the older connection's close leaves the newer one");
    }

    @Test
    void aTransportWithTimedLocksCanAbandon_andTheMessageComesBackCounted() throws Exception {
        c2d.send(C2dSend.of("d1", new byte[]{7}));
        RecordingLink link = new RecordingLink(Duration.ofSeconds(60));
        EdgeSession s = edge.open(sas("d1"), link, false);
        s.start();
        s.subscribe(Feature.C2D);
        assertEquals(1, link.messages.size());
        assertEquals(0, link.messages.get(0).deliveryCount());
        s.abandonC2d(link.messages.get(0).lockToken());
        assertEquals(2, link.messages.size(), "handed out again after the abandon");
        assertEquals(1, link.messages.get(1).deliveryCount());
        s.completeC2d(link.messages.get(1).lockToken());
        assertEquals(0, c2d.depth("d1"));
    }
}
