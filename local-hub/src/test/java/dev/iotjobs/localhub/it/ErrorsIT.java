package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the SDKs never send: malformed bodies, wrong field types, unknown routes and api-versions, sent as
 * raw HTTPS with an iothubowner SAS. Every error must carry IoT Hub's body shape with a numeric errorCode
 * (nested in {@code Message}), and nothing may be written by a rejected request.
 */
@ExtendWith(LocalHubExtension.class)
class ErrorsIT {

    private static String devicePath(String id) {
        return RawHttps.withApiVersion("/devices/" + id);
    }

    private static String twinPath(String id) {
        return RawHttps.withApiVersion("/twins/" + id);
    }

    /** Asserts the status and that the body is IoT Hub's nested error form with a numeric code of that status. */
    private static int assertHubError(RawHttps.Response r, int status) throws IOException {
        assertEquals(status, r.status(), r.body());
        JsonNode body = r.json();
        assertTrue(body.path("Message").isTextual(), "no nested Message: " + r.body());
        assertEquals("", body.path("ExceptionMessage").asText(""), "a non-empty ExceptionMessage hides the code from the SDK");
        Integer code = r.errorCode();
        assertNotNull(code, "no numeric errorCode in " + r.body());
        assertEquals(status, code / 1000, "errorCode " + code + " does not belong to HTTP " + status);
        return code;
    }

    private static void assertDeviceAbsent(String id) throws Exception {
        assertEquals(404001, assertHubError(RawHttps.send("GET", devicePath(id), null), 404));
    }

    private static String createDevice() throws Exception {
        String id = TestDevices.uniqueId("err");
        assertEquals(200, RawHttps.send("PUT", devicePath(id), "{\"deviceId\":\"" + id + "\"}").status());
        return id;
    }

    @Test
    void putDevice_malformedJsonIs400WithNumericCodeAndCreatesNothing(LocalHub hub) throws Exception {
        String id = TestDevices.uniqueId("err-json");
        assertHubError(RawHttps.send("PUT", devicePath(id), "{\"deviceId\":\"" + id + "\","), 400);
        assertHubError(RawHttps.send("PUT", devicePath(id), "{\"deviceId\":\"" + id + "\"} trailing"), 400);
        assertHubError(RawHttps.send("PUT", devicePath(id), "[\"" + id + "\"]"), 400);
        assertHubError(RawHttps.send("PUT", devicePath(id), ""), 400);
        assertDeviceAbsent(id);
    }

    @Test
    void putDevice_wrongFieldTypesAre400AndCreateNothing(LocalHub hub) throws Exception {
        String id = TestDevices.uniqueId("err-type");
        String[] bodies = {
                "{\"deviceId\":\"" + id + "\",\"status\":12}",
                "{\"deviceId\":\"" + id + "\",\"status\":\"sideways\"}",
                "{\"deviceId\":\"" + id + "\",\"authentication\":{\"type\":\"sas\",\"symmetricKey\":{\"primaryKey\":12345}}}",
                "{\"deviceId\":\"" + id + "\",\"authentication\":{\"type\":\"password\"}}",
                "{\"deviceId\":\"someone-else\"}",
                "{\"deviceId\":\"" + id + "\",\"capabilities\":{\"iotEdge\":\"yes\"}}",
                "{\"deviceId\":\"" + id + "\",\"authentication\":\"sas\"}",
        };
        for (String body : bodies) {
            RawHttps.Response r = RawHttps.send("PUT", devicePath(id), body);
            assertEquals(400, r.status(), "for " + body + ": " + r.body());
            assertHubError(r, 400);
        }
        assertDeviceAbsent(id);
    }

    @Test
    void putDevice_invalidDeviceIdIs400(LocalHub hub) throws Exception {
        assertHubError(RawHttps.send("PUT", devicePath("bad%20id"), "{}"), 400);
        assertDeviceAbsent("bad%20id");
    }

    @Test
    void patchTwin_wrongTypesAre400AndLeaveTheTwinUnchanged(LocalHub hub) throws Exception {
        String id = createDevice();
        JsonNode before = RawHttps.send("GET", twinPath(id), null).json();
        String[] bodies = {
                "{\"tags\":\"not an object\"}",
                "{\"tags\":{\"ok\":1},\"properties\":{\"desired\":[1,2]}}",
                "{\"tags\":{\"ok\":1},\"properties\":\"desired\"}",
                "{\"tags\":{\"bad.key\":1}}",
                "{\"properties\":{\"reported\":{\"x\":1}}}",
                "{\"tags\":{\"ok\":1},\"properties\":{\"desired\":{\"a\":1}}",
        };
        for (String body : bodies) {
            assertHubError(RawHttps.send("PATCH", twinPath(id), body), 400);
            assertHubError(RawHttps.send("PUT", twinPath(id), body), 400);
        }
        JsonNode after = RawHttps.send("GET", twinPath(id), null).json();
        assertEquals(before.get("etag"), after.get("etag"));
        assertEquals(before.get("version"), after.get("version"));
        assertEquals(before.get("tags"), after.get("tags"));
        assertEquals(before.at("/properties/desired/$version"), after.at("/properties/desired/$version"));
    }

    @Test
    void invokeMethod_wrongFieldTypesAre400(LocalHub hub) throws Exception {
        String id = createDevice();
        String path = RawHttps.withApiVersion("/twins/" + id + "/methods");
        String[] bodies = {
                "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":\"soon\"}",
                "{\"methodName\":\"m\",\"connectTimeoutInSeconds\":1.5}",
                "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":1}",
                "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":301}",
                "{\"payload\":1}",
                "{\"methodName\":\"\"}",
                "{\"methodName\":\"m\"",
        };
        for (String body : bodies) {
            RawHttps.Response r = RawHttps.send("POST", path, body);
            assertEquals(400, r.status(), "for " + body + ": " + r.body());
            assertHubError(r, 400);
        }
    }

    @Test
    void unknownRouteIs404(LocalHub hub) throws Exception {
        assertHubError(RawHttps.send("GET", RawHttps.withApiVersion("/no/such/route"), null), 404);
        assertHubError(RawHttps.send("POST", RawHttps.withApiVersion("/devices/x/nothing-here"), "{}"), 404);
    }

    @Test
    void missingOrUnknownApiVersionIs400001(LocalHub hub) throws Exception {
        String id = createDevice();
        assertEquals(400001, assertHubError(RawHttps.send("GET", "/devices/" + id, null), 400));
        assertEquals(400001, assertHubError(RawHttps.send("GET", "/devices/" + id + "?api-version=1999-01-01", null), 400));
        assertEquals(400001, assertHubError(RawHttps.send("GET", "/twins/" + id, null), 400));
        String other = TestDevices.uniqueId("err-apiver");
        assertEquals(400001, assertHubError(RawHttps.send("PUT", "/devices/" + other, "{\"deviceId\":\"" + other + "\"}"), 400));
        assertDeviceAbsent(other);
    }

    @Test
    void badSignatureIs401002WithoutWwwAuthenticate(LocalHub hub) throws Exception {
        var client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.getDefault()).build();
        String token = RawHttps.ownerToken().replaceFirst("sig=[^&]+", "sig=AAAA");
        var response = client.send(HttpRequest.newBuilder(
                        URI.create("https://127.0.0.1" + devicePath("myDeviceId")))
                .header("Authorization", token).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, response.statusCode());
        assertTrue(response.headers().firstValue("WWW-Authenticate").isEmpty());
        assertEquals(401002, new RawHttps.Response(response.statusCode(), response.body()).errorCode());
    }
}
