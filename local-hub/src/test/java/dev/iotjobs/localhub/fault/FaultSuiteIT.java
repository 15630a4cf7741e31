package dev.iotjobs.localhub.fault;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.HubLimits;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.auth.SasToken;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttClient;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hub's own fault suite: generated bad input on every REST route and body and on the MQTT
 * endpoint, against a hub of its own (small limits, free ports). For every input: never a 5xx, every refusal
 * in IoT Hub's error shape, no bad credential ever admitted; after every property the hub still serves a
 * normal device and the service.
 * <p>
 * Each property runs {@code jqwik.tries.default} tries, set from {@code -Dfault.iterations} (local-hub/pom.xml;
 * 40 by default, a soak run uses thousands). Seeds are fixed so that a default run is reproducible; jqwik
 * prints the seed and the shrunk input of any failure.
 */
class FaultSuiteIT {
    private static final String SEED = "1128";
    private static LocalHub hub;
    private static HubDevices devices;
    private static RawHttp http;
    private static Vertx vertx;
    /** Two registered devices the MQTT properties act as and against. */
    private static HubDevices.Registered alice;
    private static HubDevices.Registered bob;

    @BeforeContainer
    static void start() throws Exception {
        hub = OwnHub.start(HubLimits.DEFAULTS.withMqttOutboundBytes(64 * 1024)
                .withMqttConnectTimeout(Duration.ofSeconds(1)).withHttpBodyTimeout(Duration.ofSeconds(2)));
        devices = new HubDevices(hub);
        http = devices.http();
        vertx = Vertx.vertx();
        alice = devices.register("fault-alice");
        bob = devices.register("fault-bob");
    }

    @AfterContainer
    static void stop() throws Exception {
        if (vertx != null) {
            HubDevices.await(vertx.close());
        }
        if (hub != null) {
            hub.close();
        }
    }

    /** After every property: the hub still registers devices, serves the service and a normal device. */
    @AfterProperty
    void hubStillServes() throws Exception {
        HubDevices.Registered d = devices.register("fault-check");
        assertEquals(200, http.send("GET", "/statistics/devices?" + RawHttp.API, null).status());
        assertEquals(200, http.send("PATCH", "/twins/" + d.id() + "?" + RawHttp.API,
                "{\"properties\":{\"desired\":{\"ok\":true}}}").status());
        MqttClient client = HubDevices.await(devices.connect(vertx, d.id(), d.username(), d.token()));
        try {
            CompletableFuture<String> answer = new CompletableFuture<>();
            client.publishHandler(m -> answer.complete(m.topicName()));
            HubDevices.await(client.subscribe("$iothub/twin/res/#", 0));
            client.publish("$iothub/twin/GET/?$rid=1", Buffer.buffer(), MqttQoS.AT_MOST_ONCE, false, false);
            assertTrue(answer.get(15, TimeUnit.SECONDS).startsWith("$iothub/twin/res/200/"));
        } finally {
            HubDevices.await(client.disconnect());
        }
        assertEquals(204, http.send("DELETE", "/devices/" + d.id() + "?" + RawHttp.API, null).status());
    }

    private static void assertNoServerErrorAndHubShape(RawHttp.Response r, String what) {
        assertTrue(r.status() < 500, "5xx for " + what + ": " + r);
        if (r.status() >= 400) {
            assertTrue(r.isHubRefusal() || r.isBulkRegistryFailure(), "not IoT Hub's error body for " + what + ": " + r);
        }
    }

    // ---------------------------------------------------------------- REST

    /** One generated request: method, target (path and query, sent as is), extra headers, body or null. */
    record Req(String method, String target, Map<String, String> headers, String body) {
        @Override
        public String toString() {
            String b = body == null ? "null" : body.length() > 200 ? body.substring(0, 200) + "...(" + body.length() + ")" : body;
            String t = target.length() > 200 ? target.substring(0, 200) + "...(" + target.length() + ")" : target;
            return method + " " + t + " " + headers.keySet() + " " + b;
        }
    }

    @Property(seed = SEED)
    void restRoutesNeverAnswer5xxAndRefuseInIotHubsShape(@ForAll("requests") Req req) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Authorization", RawHttp.ownerToken());
        headers.putAll(req.headers());
        RawHttp.Response r = http.send(req.method(), req.target(), headers, req.body());
        if (req.method().equals("HEAD")) {
            // An answer to HEAD has no body (HTTP); the refusal still names its code in the header.
            assertTrue(r.status() < 500, "5xx for " + req + ": " + r);
            assertTrue(r.status() < 400 || r.headers().containsKey("iothub-errorcode"), "no iothub-errorcode: " + r);
        } else {
            assertNoServerErrorAndHubShape(r, req.toString());
        }
    }

    @Provide
    Arbitrary<Req> requests() {
        Arbitrary<String> method = Arbitraries.of("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE");
        Arbitrary<String> path = Arbitraries.oneOf(
                ids().map(id -> "/devices/" + id), ids().map(id -> "/twins/" + id), ids().map(id -> "/twins/" + id + "/methods"),
                ids().map(id -> "/jobs/v2/" + id), ids().map(id -> "/jobs/v2/" + id + "/cancel"),
                Arbitraries.of("/devices", "/devices/query", "/statistics/devices", "/jobs/v2/query", "/", "/devices/",
                        "/twins", "/jobs/v2", "/devices/x/modules/y", "//devices", "/./devices/../twins/x", "/%2e%2e/x"),
                Arbitraries.strings().ofMaxLength(40).map(s -> "/" + URLEncoder.encode(s, StandardCharsets.UTF_8)));
        Arbitrary<String> query = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.just("?" + RawHttp.API)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of("", "?", "?api-version=", "?api-version=1999-01-01",
                        "?api-version=%", "?api-version=%zz", "?%%%=1", "?api-version=2021-04-12&api-version=2016-11-14",
                        "?api-version=2021-04-12&jobType=%", "?api-version=2021-04-12&jobType=nonsense&jobStatus=x")),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(30)
                        .map(s -> "?" + RawHttp.API + "&" + URLEncoder.encode(s, StandardCharsets.UTF_8))));
        Arbitrary<Map<String, String>> headers = Arbitraries.maps(
                Arbitraries.of("x-ms-continuation", "x-ms-max-item-count", "If-Match", "X-HTTP-Method-Override", "Content-Type"),
                headerValues()).ofMaxSize(3);
        Arbitrary<String> body = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.just((String) null)),
                net.jqwik.api.Tuple.of(6, bodies()));
        return Combinators.combine(method, path, query, headers, body).as((m, p, q, h, b) -> new Req(m, p + q, h, b));
    }

    private static Arbitrary<String> headerValues() {
        return Arbitraries.oneOf(
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(60),
                Arbitraries.integers().map(i -> Base64.getUrlEncoder().withoutPadding()
                        .encodeToString(("j:" + i).getBytes(StandardCharsets.UTF_8))),
                Arbitraries.integers().map(i -> Base64.getUrlEncoder().withoutPadding()
                        .encodeToString(("o:" + i).getBytes(StandardCharsets.UTF_8))),
                Arbitraries.of("PATCH", "GET", "*", "\"AAAAAAAAAAE=\"", "0", "-1", "2147483648", "application/xml", ""));
    }

    /** Device, job and twin ids: valid, odd, too long, escaped, badly escaped. */
    static Arbitrary<String> ids() {
        return Arbitraries.oneOf(
                Arbitraries.strings().alpha().numeric().withChars('-').ofMinLength(1).ofMaxLength(20),
                Arbitraries.strings().ofMinLength(1).ofMaxLength(40).map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8)),
                Arbitraries.of("%", "%zz", "%e2%82", "%00", "a%2Fb", "..", ".", "%20", "+", "a;b", "myDeviceId%",
                        "$edgeHub", "x".repeat(129), "y".repeat(3000)),
                Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(20)
                        .map(s -> s.replace("?", "%3F").replace("#", "%23").replace("/", "%2F").replace("%", "%25")));
    }

    /** Bodies: malformed, any JSON, deep, huge, and the routes' own shapes with wrong values. */
    static Arbitrary<String> bodies() {
        return Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(100),
                json(4),
                Arbitraries.integers().between(1, 1200).flatMap(depth -> Arbitraries.of(
                        "{\"a\":".repeat(depth) + "1" + "}".repeat(depth),
                        "[".repeat(depth) + "]".repeat(depth),
                        "{\"tags\":{\"t\":" + "[".repeat(depth) + "]".repeat(depth) + "}}",
                        "{\"properties\":{\"desired\":" + "{\"a\":".repeat(depth) + "1" + "}".repeat(depth) + "}}")),
                Arbitraries.integers().between(1, 700 * 1024).map(n -> "{\"tags\":{\"big\":\"" + "b".repeat(n) + "\"}}"),
                Combinators.combine(Arbitraries.of(TEMPLATES), json(2)).as(FaultSuiteIT::withValue));
    }

    /** Valid-looking bodies of each route, with {@code $V} replaced by a generated JSON value. */
    private static final String[] TEMPLATES = {
            "{\"deviceId\":$V}",
            "{\"deviceId\":\"fz\",\"status\":$V}",
            "{\"deviceId\":\"fz\",\"authentication\":{\"type\":\"sas\",\"symmetricKey\":{\"primaryKey\":$V}}}",
            "{\"deviceId\":\"fz\",\"authentication\":$V}",
            "{\"deviceId\":\"fz\",\"capabilities\":{\"iotEdge\":$V}}",
            "[{\"id\":\"fz-b\",\"importMode\":$V}]",
            "[{\"id\":$V,\"importMode\":\"create\"}]",
            "[{\"id\":\"fz-c\",\"importMode\":\"create\",\"tags\":$V}]",
            "{\"query\":$V}",
            "{\"tags\":$V}",
            "{\"properties\":{\"desired\":$V}}",
            "{\"properties\":{\"reported\":$V}}",
            "{\"properties\":$V}",
            "{\"methodName\":$V,\"responseTimeoutInSeconds\":5}",
            "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":$V}",
            "{\"methodName\":\"m\",\"connectTimeoutInSeconds\":$V}",
            "{\"methodName\":\"m\",\"payload\":$V}",
            "{\"jobId\":\"fzjob\",\"type\":$V}",
            "{\"jobId\":\"fzjob\",\"type\":\"scheduleUpdateTwin\",\"queryCondition\":$V,\"updateTwin\":{\"etag\":\"*\",\"tags\":{\"f\":1}}}",
            "{\"jobId\":\"fzjob\",\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"deviceId = 'none'\",\"updateTwin\":$V}",
            "{\"jobId\":\"fzjob\",\"type\":\"scheduleDeviceMethod\",\"queryCondition\":\"deviceId = 'none'\",\"cloudToDeviceMethod\":$V}",
            "{\"jobId\":\"fzjob\",\"type\":\"scheduleDeviceMethod\",\"queryCondition\":\"deviceId = 'none'\",\"startTime\":$V,\"cloudToDeviceMethod\":{\"methodName\":\"m\"}}",
            "{\"jobId\":\"fzjob\",\"type\":\"scheduleDeviceMethod\",\"queryCondition\":\"deviceId = 'none'\",\"maxExecutionTimeInSeconds\":$V,\"cloudToDeviceMethod\":{\"methodName\":\"m\"}}",
    };

    private static String withValue(String template, String value) {
        return template.replace("$V", value);
    }

    /** Any JSON value up to {@code depth} levels, with keys that break twin rules now and then. */
    static Arbitrary<String> json(int depth) {
        Arbitrary<String> scalar = Arbitraries.oneOf(
                Arbitraries.of("null", "true", "false", "0", "-1", "1e400", "-0.0", "4503599627370496", "99999999999999999999999",
                        "\"\"", "\"*\"", "\"enabled\"", "\"sas\"", "\"create\"", "\"SELECT * FROM devices\"",
                        "\"2021-01-01T00:00:00Z\"", "\"SELECT * FROM devices WHERE\"", "\"SELECT\""),
                Arbitraries.integers().map(String::valueOf),
                Arbitraries.strings().ofMaxLength(20).map(FaultSuiteIT::quote));
        if (depth <= 0) {
            return scalar;
        }
        Arbitrary<String> key = Arbitraries.oneOf(Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8),
                Arbitraries.of("$metadata", "$version", "a.b", "a b", "", "$", "deviceId", "tags", "desired"));
        Arbitrary<String> array = json(depth - 1).list().ofMaxSize(4).map(l -> "[" + String.join(",", l) + "]");
        Arbitrary<String> object = Combinators.combine(key, json(depth - 1)).as((k, v) -> quote(k) + ":" + v)
                .list().ofMaxSize(4).map(l -> "{" + String.join(",", l) + "}");
        return Arbitraries.oneOf(scalar, array, object);
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || Character.isSurrogate(c)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    // ---------------------------------------------------------------- REST authentication

    /** A generated Authorization header and whether it is a valid token that covers the request. */
    record Auth(String header, boolean admissible, String route) {
    }

    @Property(seed = SEED)
    void badTokensAreNeverAdmitted(@ForAll("tokens") Auth auth) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        if (auth.header() != null) {
            headers.put("Authorization", auth.header());
        }
        String[] route = auth.route().split(" ", 2);
        RawHttp.Response r = http.send(route[0], route[1], headers, route[0].equals("GET") ? null : "{\"query\":\"SELECT * FROM devices\"}");
        assertNoServerErrorAndHubShape(r, auth.toString());
        if (!auth.admissible()) {
            assertEquals(401, r.status(), "a bad token was admitted: " + auth + " -> " + r);
            assertEquals(401002, r.errorCode());
        }
    }

    @Provide
    Arbitrary<Auth> tokens() {
        Arbitrary<String> policy = Arbitraries.of("iothubowner", "service", "registryRead", "registryReadWrite", "nobody", "");
        Arbitrary<String> keyChoice = Arbitraries.of("own", "other", "random", "broken");
        Arbitrary<String> sr = Arbitraries.of("127.0.0.1", "127.0.0.1/", "127.0.0.1/DEVICES", "127.0.0.1/devices",
                "127.0.0.1/devices/fault-alice", "127.0.0.1/twins", "evil.example.com", "127.0.0.10", "", "127.0.0.1%2Fdevices");
        Arbitrary<Long> expiry = Arbitraries.of(3600L, 60L, -1L, -3600L, 0L);
        Arbitrary<String> mangle = Arbitraries.of("none", "none", "none", "drop-sig", "drop-se", "drop-sr", "bearer",
                "garbage", "lowercase-prefix", "missing");
        Arbitrary<String> route = Arbitraries.of("GET /statistics/devices?" + RawHttp.API,
                "GET /devices/" + "fault-alice" + "?" + RawHttp.API, "POST /devices/query?" + RawHttp.API,
                "GET /jobs/v2/query?" + RawHttp.API, "GET /twins/fault-bob?" + RawHttp.API);
        return Combinators.combine(policy, keyChoice, sr, expiry, mangle, route).as(FaultSuiteIT::token);
    }

    private static Auth token(String policy, String keyChoice, String sr, long expiresIn, String mangle, String route) {
        Map<String, String> keys = Map.of("iothubowner", WellKnownKeys.IOTHUBOWNER_KEY, "service", WellKnownKeys.SERVICE_KEY,
                "registryRead", WellKnownKeys.REGISTRY_READ_KEY, "registryReadWrite", WellKnownKeys.REGISTRY_READ_WRITE_KEY);
        String own = keys.get(policy);
        String key = switch (keyChoice) {
            case "own" -> own == null ? WellKnownKeys.IOTHUBOWNER_KEY : own;
            case "other" -> own == WellKnownKeys.SERVICE_KEY ? WellKnownKeys.REGISTRY_READ_KEY : WellKnownKeys.SERVICE_KEY;
            case "random" -> Base64.getEncoder().encodeToString(("k" + policy + sr).getBytes(StandardCharsets.UTF_8));
            default -> "!!not-base64!!";
        };
        long se = Instant.now().getEpochSecond() + expiresIn;
        String header;
        try {
            header = SasToken.create(sr, key, policy.isEmpty() ? null : policy, se);
        } catch (IllegalArgumentException e) {
            header = "SharedAccessSignature sr=" + sr + "&sig=x&se=" + se + "&skn=" + policy;
        }
        header = switch (mangle) {
            case "drop-sig" -> header.replaceAll("sig=[^&]*&?", "");
            case "drop-se" -> header.replaceAll("se=[^&]*&?", "");
            case "drop-sr" -> header.replaceAll("sr=[^&]*&?", "");
            case "bearer" -> "Bearer " + header;
            case "garbage" -> "SharedAccessSignature " + Base64.getEncoder().encodeToString(header.getBytes(StandardCharsets.UTF_8));
            case "lowercase-prefix" -> header.replace("SharedAccessSignature", "sharedaccesssignature");
            case "missing" -> null;
            default -> header;
        };
        String path = route.split(" ", 2)[1];
        path = path.substring(0, path.indexOf('?'));
        boolean keyOk = own != null && keyChoice.equals("own");
        boolean srOk = sr.equals("127.0.0.1") || sr.equals("127.0.0.1/")
                || (sr.equalsIgnoreCase("127.0.0.1/devices") && path.startsWith("/devices/"))
                || (sr.equals("127.0.0.1/twins") && path.startsWith("/twins/"))
                || (sr.equals("127.0.0.1/devices/fault-alice") && path.equals("/devices/fault-alice"));
        boolean permission = switch (path) {
            case "/statistics/devices", "/devices/fault-alice" -> !policy.equals("service"); // registry read
            default -> true; // queries, job list, twin read: registry read or service connect
        };
        boolean admissible = keyOk && srOk && expiresIn > 0 && mangle.equals("none") && permission;
        return new Auth(header, admissible, route);
    }

    // ---------------------------------------------------------------- MQTT

    record Connect(String clientId, String username, String password, boolean valid, byte[] packet) {
        @Override
        public String toString() {
            return "CONNECT client=" + clientId + " user=" + username + " password=" + password + " valid=" + valid;
        }
    }

    @Property(seed = SEED)
    void badConnectsAreRefused(@ForAll("connects") Connect c) throws Exception {
        try (RawMqtt mqtt = RawMqtt.open(hub, 0)) {
            mqtt.send(c.packet());
            RawMqtt.Packet connack = mqtt.await(RawMqtt.CONNACK);
            boolean accepted = connack != null && connack.body().length >= 2 && connack.body()[1] == 0;
            if (!c.valid()) {
                assertTrue(!accepted, "accepted: " + c);
            } else {
                assertTrue(accepted, "a valid CONNECT was refused: " + c);
            }
        }
    }

    @Provide
    Arbitrary<Connect> connects() {
        Arbitrary<String> clientId = Arbitraries.oneOf(Arbitraries.of("fault-alice", "fault-bob", "", "fault-alice/mod",
                "ghost"), Arbitraries.strings().ofMaxLength(30));
        Arbitrary<String> userHost = Arbitraries.of("127.0.0.1", "127.0.0.1", "evil.example.com", "", "127.0.0.1.evil", "127.0.0.1/x");
        Arbitrary<String> userDevice = Arbitraries.of("self", "self", "other", "");
        Arbitrary<String> password = Arbitraries.of("own", "own", "other-device", "wrong-host", "expired", "owner-policy",
                "garbage", "none", "wrong-key");
        Arbitrary<Integer> protocol = Arbitraries.of(4, 4, 4, 3, 5, 0, 255);
        return Combinators.combine(clientId, userHost, userDevice, password, protocol).as(FaultSuiteIT::connect);
    }

    private static Connect connect(String clientId, String userHost, String userDevice, String passwordKind, int protocol) {
        HubDevices.Registered self = clientId.equals("fault-bob") ? bob : alice;
        String id = clientId.equals("fault-alice") || clientId.equals("fault-bob") ? self.id() : clientId;
        String named = switch (userDevice) {
            case "self" -> id;
            case "other" -> id.equals(alice.id()) ? bob.id() : alice.id();
            default -> "";
        };
        String username = userHost + "/" + named + "/?api-version=2021-04-12";
        long se = Instant.now().getEpochSecond() + 600;
        String password = switch (passwordKind) {
            case "own" -> SasToken.create("127.0.0.1/devices/" + id, self.key(), null, se);
            case "other-device" -> SasToken.create("127.0.0.1/devices/" + bob.id(), bob.key(), null, se);
            case "wrong-host" -> SasToken.create("evil/devices/" + id, self.key(), null, se);
            case "expired" -> SasToken.create("127.0.0.1/devices/" + id, self.key(), null, se - 1200);
            case "owner-policy" -> SasToken.create("127.0.0.1", WellKnownKeys.IOTHUBOWNER_KEY, "iothubowner", se);
            case "garbage" -> "SharedAccessSignature sr=&sig=&se=";
            case "wrong-key" -> SasToken.create("127.0.0.1/devices/" + id, WellKnownKeys.SERVICE_KEY, null, se);
            default -> null;
        };
        boolean registered = id.equals(alice.id()) || id.equals(bob.id());
        boolean valid = registered && protocol == 4 && userHost.equals("127.0.0.1") && userDevice.equals("self")
                && passwordKind.equals("own");
        byte[] packet = RawMqtt.connect(id, username, password, 60);
        packet = withProtocolLevel(packet, protocol);
        return new Connect(id, username, password, valid, packet);
    }

    /** The CONNECT's protocol level byte follows the fixed header and the 6-byte protocol name. */
    private static byte[] withProtocolLevel(byte[] connect, int level) {
        int header = 1;
        while ((connect[header] & 0x80) != 0) {
            header++;
        }
        connect[header + 1 + 6] = (byte) level;
        return connect;
    }

    @Property(seed = SEED)
    void garbagePacketsDoNoHarm(@ForAll("garbage") byte[] bytes, @ForAll boolean afterConnect) throws Exception {
        try (RawMqtt mqtt = RawMqtt.open(hub, 0)) {
            if (afterConnect) {
                mqtt.send(RawMqtt.connect(alice.id(), alice.username(), alice.token(), 60));
                RawMqtt.Packet connack = mqtt.await(RawMqtt.CONNACK);
                assertTrue(connack != null && connack.body()[1] == 0);
            }
            try {
                mqtt.send(bytes);
            } catch (IOException e) {
                // the hub closed already: fine
            }
        }
    }

    @Provide
    Arbitrary<byte[]> garbage() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(2048);
        Arbitrary<byte[]> badPackets = Arbitraries.oneOf(
                // remaining length over 4 bytes or over the message limit, wrong flags, reserved types
                Arbitraries.of(new byte[]{0x30, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f},
                        new byte[]{0x30, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f},
                        new byte[]{0x00, 0x00}, new byte[]{(byte) 0xf0, 0x00}, new byte[]{0x10, 0x00},
                        new byte[]{(byte) 0x83, 0x00}, new byte[]{0x62, 0x02, 0x00, 0x01}, new byte[]{(byte) 0xc0, 0x00}),
                Combinators.combine(Arbitraries.integers().between(0, 255), random)
                        .as((first, body) -> RawMqtt.packet(first, body)),
                Combinators.combine(Arbitraries.strings().ofMaxLength(300), Arbitraries.integers().between(0, 3))
                        .as((topic, qos) -> RawMqtt.publish(topic, new byte[]{1, 2, 3}, qos, 1)));
        return Arbitraries.oneOf(random, badPackets);
    }

    record Foreign(String action, String topic) {
    }

    @Property(seed = SEED)
    void crossDeviceTopicsAreRefused(@ForAll("foreign") Foreign f) throws Exception {
        try (RawMqtt mqtt = RawMqtt.open(hub, 0)) {
            mqtt.send(RawMqtt.connect(alice.id(), alice.username(), alice.token(), 60));
            RawMqtt.Packet connack = mqtt.await(RawMqtt.CONNACK);
            assertTrue(connack != null && connack.body()[1] == 0);
            if (f.action().equals("subscribe")) {
                mqtt.send(RawMqtt.subscribe(7, f.topic(), 1));
                RawMqtt.Packet suback = mqtt.await(RawMqtt.SUBACK);
                assertTrue(suback == null || (suback.body()[2] & 0xff) == 0x80, "subscribed to " + f.topic());
            } else {
                mqtt.send(RawMqtt.publish(f.topic(), "{\"stolen\":1}".getBytes(StandardCharsets.UTF_8), 1, 9));
                assertTrue(mqtt.closedByHub(), "still connected after publishing to " + f.topic());
            }
        }
    }

    /** Whatever alice sent to bob's topics, bob's twin is unchanged (checked once per property, before and after). */
    private static long bobReportedVersion = -1;

    @net.jqwik.api.lifecycle.BeforeProperty
    void rememberBobsTwin() throws Exception {
        bobReportedVersion = reportedVersion(bob.id());
    }

    @AfterProperty
    void bobsTwinIsUnchanged() throws Exception {
        assertEquals(bobReportedVersion, reportedVersion(bob.id()), "another device's twin changed");
    }

    @Provide
    Arbitrary<Foreign> foreign() {
        Arbitrary<String> other = Arbitraries.of("fault-bob", "+", "#", "myDeviceId");
        Arbitrary<String> publishTopic = Combinators.combine(other, Arbitraries.of(
                "devices/%s/messages/events/", "devices/%s/messages/devicebound/", "devices/%s/twin/PATCH",
                "$iothub/twin/PATCH/properties/desired/?$rid=1", "$iothub/methods/POST/m/?$rid=1", "devices/%s",
                "$iothub/%s", "%s", "devices/%s/modules/m/messages/events/"))
                .as((o, t) -> t.replace("%s", o.equals("fault-bob") ? bob.id() : o));
        Arbitrary<String> subscribeTopic = Combinators.combine(other, Arbitraries.of(
                "devices/%s/messages/devicebound/#", "devices/%s/#", "#", "$iothub/#", "devices/+/messages/devicebound/#",
                "$iothub/twin/res/%s", "devices/%s/messages/events/"))
                .as((o, t) -> t.replace("%s", o.equals("fault-bob") ? bob.id() : o))
                .filter(t -> !t.equals("$iothub/twin/res/#")); // alice's own twin answers: allowed
        return Arbitraries.oneOf(publishTopic.map(t -> new Foreign("publish", t)),
                subscribeTopic.map(t -> new Foreign("subscribe", t)));
    }

    private static long reportedVersion(String id) throws Exception {
        RawHttp.Response r = http.send("GET", "/twins/" + id + "?" + RawHttp.API, null);
        assertEquals(200, r.status());
        return new ObjectMapper().readTree(r.body())
                .path("properties").path("reported").path("$version").asLong();
    }

    @Property(seed = SEED, tries = 1)
    void aClientThatDoesNotReadIsDisconnected(@ForAll("floods") int getsPerWrite) throws Exception {
        HubDevices.Registered d = devices.register("fault-flood");
        StringBuilder desired = new StringBuilder("{\"properties\":{\"desired\":{\"big\":\"" + "v".repeat(4000) + "\"}}}");
        assertEquals(200, http.send("PATCH", "/twins/" + d.id() + "?" + RawHttp.API, desired.toString()).status());
        try (RawMqtt mqtt = RawMqtt.open(hub, 4096)) {
            mqtt.send(RawMqtt.connect(d.id(), d.username(), d.token(), 60));
            assertNotEquals(null, mqtt.await(RawMqtt.CONNACK));
            mqtt.send(RawMqtt.subscribe(1, "$iothub/twin/res/#", 0));
            assertNotEquals(null, mqtt.await(RawMqtt.SUBACK));
            try {
                for (int sent = 0; sent < 40_000; sent += getsPerWrite) {
                    ByteArrayOutputStream batch = new ByteArrayOutputStream();
                    for (int i = 0; i < getsPerWrite; i++) {
                        batch.writeBytes(RawMqtt.publish("$iothub/twin/GET/?$rid=" + (sent + i), new byte[0], i % 2, i + 1));
                    }
                    mqtt.send(batch.toByteArray());
                }
            } catch (IOException e) {
                // closed by the hub
            }
            assertTrue(mqtt.closedByHub());
        }
    }

    @Provide
    Arbitrary<Integer> floods() {
        return Arbitraries.integers().between(1, 400);
    }
}
