package dev.iotjobs.localhub.fault;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input on the service endpoint is refused with a 4xx in IoT Hub's error
 * shape (never a 5xx, never an empty body), twin rules hold inside arrays, and a policy token reaches only
 * what its {@code sr} names.
 */
@ExtendWith(LocalHubExtension.class)
class RestRefusalsIT {
    private final RawHttp http;

    RestRefusalsIT(LocalHub hub) {
        this.http = new RawHttp(hub);
    }

    private static void assertRefused(int status, int errorCode, RawHttp.Response r) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(errorCode, r.errorCode(), "IoT Hub's error body with code " + errorCode + ": " + r);
    }

    private static String newId() {
        return "fault-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private String createDevice() throws Exception {
        String id = newId();
        RawHttp.Response r = http.send("PUT", "/devices/" + id + "?" + RawHttp.API, "{\"deviceId\":\"" + id + "\"}");
        assertEquals(200, r.status(), r.toString());
        return id;
    }

    /** a bad percent escape in the query string is 400, on every route (it was 500 on some). */
    @Test
    void badEscapesInTheQueryStringAre400() throws Exception {
        for (String query : new String[]{"api-version=%", "api-version=%zz", "%%%=1", "api-version=2021-04-12&x=%4"}) {
            assertRefused(400, 400000, http.send("GET", "/statistics/devices?" + query, null));
            assertRefused(400, 400000, http.send("GET", "/jobs/v2/query?" + query, null));
            assertRefused(400, 400000, http.send("POST", "/devices/query?" + query, "{\"query\":\"SELECT * FROM devices\"}"));
            assertRefused(400, 400000, http.send("GET", "/devices/x?" + query, null));
        }
    }

    /** a negative (or overflowing) job-list continuation token is 400004, not 500. */
    @Test
    void badJobListContinuationTokensAre400() throws Exception {
        for (String offset : new String[]{"-5", "-2147483648", "2147483647", "99999999999"}) {
            String token = Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(("o:" + offset).getBytes(StandardCharsets.UTF_8));
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("Authorization", RawHttp.ownerToken());
            headers.put("x-ms-continuation", token);
            RawHttp.Response r = http.send("GET", "/jobs/v2/query?" + RawHttp.API, headers, null);
            if (offset.equals("2147483647")) {
                assertEquals(200, r.status(), "past the end: an empty last page, " + r);
                assertEquals("[]", r.body());
                assertEquals(null, r.headers().get("x-ms-continuation"), "no further page");
            } else {
                assertRefused(400, 400004, r);
            }
        }
    }

    /**
     * What the HTTP layer refuses (request line, headers, unparsable request) carries IoT Hub's body, and
     * every client reads it: the hub answers before it has read the whole request, then reads and discards the
     * rest before closing (a lingering close), so a client still writing its request never gets a reset ("Broken
     * pipe") instead of the answer. Each oversized request is sent several times: without the lingering close,
     * one of them is reset more often than not.
     */
    @Test
    void httpLayerRefusalsCarryIotHubsErrorBody() throws Exception {
        StringBuilder manyParams = new StringBuilder("/statistics/devices?" + RawHttp.API);
        for (int i = 0; i < 5000; i++) {
            manyParams.append("&p").append(i).append('=').append(i);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Authorization", RawHttp.ownerToken());
        headers.put("x-ms-continuation", "c".repeat(60_000));
        for (int round = 0; round < 10; round++) {
            assertRefused(414, 414000, http.send("GET", "/devices/" + "d".repeat(10_000) + "?" + RawHttp.API, null));
            RawHttp.Response longLine = http.send("GET", manyParams.toString(), null); // a 60 KB request line
            assertRefused(414, 414000, longLine);
            assertEquals("close", longLine.headers().get("connection"), longLine.toString());
            assertTrue(longLine.endedCleanly(), "the hub closed after TLS's close_notify, not with a reset: " + longLine);
            RawHttp.Response bigHeaders = http.send("GET", "/jobs/v2/query?" + RawHttp.API, headers, null);
            assertRefused(431, 431000, bigHeaders);
            assertTrue(bigHeaders.endedCleanly(), bigHeaders.toString());
        }
        RawHttp.Response space = http.exchange(("GET /devices/a b?" + RawHttp.API + " HTTP/1.1\r\nHost: "
                + WellKnownKeys.HOST_NAME + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        assertRefused(400, 400000, space);
        RawHttp.Response garbage = http.exchange("\u0001\u0002 nonsense\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertRefused(400, 400000, garbage);
    }

    /** key and depth rules apply inside arrays, and $metadata is refused over REST as over MQTT. */
    @Test
    void twinRulesHoldInsideArraysAndForMetadata() throws Exception {
        String id = createDevice();
        String deep = "{\"a\":".repeat(12) + "1" + "}".repeat(12);
        String[] bad = {
                "{\"tags\":{\"a\":[{\"a\":" + deep + "}]}}",
                "{\"properties\":{\"desired\":{\"a\":[{\"$x.y z\":1}]}}}",
                "{\"properties\":{\"desired\":{\"a\":[[{\"b.c\":1}]]}}}",
                "{\"tags\":{\"t\":" + "[".repeat(900) + "]".repeat(900) + "}}",
                "{\"tags\":{\"t\":" + "[".repeat(10) + "1" + "]".repeat(10) + "}}",
                "{\"properties\":{\"desired\":{\"$metadata\":{\"x\":1}}}}",
                "{\"properties\":{\"desired\":{\"a\":[\"" + "x".repeat(5000) + "\"]}}}",
        };
        for (String body : bad) {
            RawHttp.Response r = http.send("PATCH", "/twins/" + id + "?" + RawHttp.API, body);
            assertEquals(400, r.status(), body.substring(0, Math.min(80, body.length())) + " -> " + r);
            assertTrue(r.isHubRefusal(), r.toString());
        }
        RawHttp.Response twin = http.send("GET", "/twins/" + id + "?" + RawHttp.API, null);
        assertEquals(200, twin.status());
        assertTrue(twin.body().contains("\"tags\":{}") || !twin.body().contains("\"tags\""), "nothing stored: " + twin);
        assertTrue(!twin.body().contains("\"a\":[") && !twin.body().contains("\"x\":1"), "nothing stored: " + twin);
        // Arrays within the limits still work, and the $version the SDK sends back is still ignored.
        String ok = "{\"tags\":{\"t\":[1,{\"k\":[2,3]}]},\"properties\":{\"desired\":{\"$version\":7,\"a\":[{\"b\":1}]}}}";
        assertEquals(200, http.send("PATCH", "/twins/" + id + "?" + RawHttp.API, ok).status());
    }

    /** a policy token reaches only resources under its sr. */
    @Test
    void aPolicyTokenReachesOnlyWhatItsResourceNames() throws Exception {
        String victim = createDevice();
        String other = createDevice();
        String scoped = RawHttp.token(WellKnownKeys.HOST_NAME + "/devices/" + other, WellKnownKeys.IOTHUBOWNER_KEY, "iothubowner");
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Authorization", scoped);
        assertRefused(401, 401002, http.send("GET", "/devices/" + victim + "?" + RawHttp.API, headers, null));
        assertRefused(401, 401002, http.send("GET", "/twins/" + other + "?" + RawHttp.API, headers, null));
        assertRefused(401, 401002, http.send("GET", "/statistics/devices?" + RawHttp.API, headers, null));
        assertRefused(401, 401002, http.send("PUT", "/jobs/v2/" + newId() + "?" + RawHttp.API, headers,
                "{\"jobId\":\"x\",\"type\":\"scheduleUpdateTwin\"}"));
        assertRefused(401, 401002, http.send("GET", "/devices/" + other + "x?" + RawHttp.API, headers, null));
        assertEquals(200, http.send("GET", "/devices/" + other + "?" + RawHttp.API, headers, null).status(),
                "its own device is within reach");
        // sr = {host}/devices reaches every device and the device query, not twins or jobs.
        headers.put("Authorization", RawHttp.token(WellKnownKeys.HOST_NAME + "/devices", WellKnownKeys.IOTHUBOWNER_KEY, "iothubowner"));
        assertEquals(200, http.send("GET", "/devices/" + victim + "?" + RawHttp.API, headers, null).status());
        assertRefused(401, 401002, http.send("GET", "/twins/" + victim + "?" + RawHttp.API, headers, null));
        // The hub's host, in any case, reaches everything (what the service SDK sends).
        headers.put("Authorization", RawHttp.token("127.0.0.1", WellKnownKeys.IOTHUBOWNER_KEY, "iothubowner"));
        assertEquals(200, http.send("GET", "/twins/" + victim + "?" + RawHttp.API, headers, null).status());
    }
}
