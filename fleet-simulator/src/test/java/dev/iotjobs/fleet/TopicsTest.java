package dev.iotjobs.fleet;

import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device side of the IoT Hub topics and SAS tokens, as the fleet speaks them (the hub's tests drive it end to end). */
class TopicsTest {

    @Test
    void methodRequestTopic_givesNameAndRid_andTheAnswerGoesToTheResponseTopic() {
        String topic = "$iothub/methods/POST/lockDoor/?$rid=1f";
        assertTrue(topic.startsWith(Topics.METHOD_REQUEST_PREFIX));
        assertEquals("lockDoor", Topics.methodName(topic));
        assertEquals("1f", Topics.param(topic, "$rid"));
        assertNull(Topics.param(topic, "$version"));
        assertEquals("$iothub/methods/res/200/?$rid=1f", Topics.methodResponse(200, "1f"));
    }

    @Test
    void desiredPatchTopic_givesItsVersion() {
        String topic = "$iothub/twin/PATCH/properties/desired/?$version=7";
        assertTrue(topic.startsWith(Topics.DESIRED_PREFIX));
        assertEquals("7", Topics.param(topic, "$version"));
    }

    @Test
    void sasToken_signsTheEncodedResourceAndExpiry() throws Exception {
        String key = Base64.getEncoder().encodeToString(new byte[32]);
        String token = SasTokens.create("127.0.0.1/devices/d-1", key, null, 1_900_000_000L);
        assertTrue(token.startsWith("SharedAccessSignature sr=127.0.0.1%2Fdevices%2Fd-1&sig="), token);
        assertTrue(token.endsWith("&se=1900000000"), token);
        String sig = URLDecoder.decode(token.substring(token.indexOf("&sig=") + 5, token.indexOf("&se=")), StandardCharsets.UTF_8);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(new byte[32], "HmacSHA256"));
        String expected = Base64.getEncoder().encodeToString(
                mac.doFinal("127.0.0.1%2Fdevices%2Fd-1\n1900000000".getBytes(StandardCharsets.UTF_8)));
        assertEquals(expected, sig);
        assertTrue(SasTokens.create("127.0.0.1", key, "iothubowner", 1L).endsWith("&skn=iothubowner"));
    }
}
