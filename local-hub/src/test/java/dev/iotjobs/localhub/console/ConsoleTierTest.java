package dev.iotjobs.localhub.console;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.throttle.HubThrottles;
import dev.iotjobs.localhub.throttle.Tier;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the console's pages learn about the hub's tier ({@code GET /api/local/tier}). */
class ConsoleTierTest {
    @Test
    void untiered_saysNoTier() {
        JsonNode n = Json.parse(ConsoleServer.tierJson(HubThrottles.none()).getBytes(StandardCharsets.UTF_8));
        assertTrue(n.get("tier").isNull());
    }

    @Test
    void s3WithTwoUnits_givesThePaceAndTheJobLimit() {
        JsonNode n = Json.parse(ConsoleServer.tierJson(HubThrottles.of(Tier.S3, 2, Clock.systemUTC()))
                .getBytes(StandardCharsets.UTF_8));
        assertEquals("S3", n.get("tier").asText());
        assertEquals(2, n.get("units").asInt());
        assertEquals(100.0, n.get("jobDeviceOperationsPerSecond").asDouble());
        assertEquals(10, n.get("maxActiveJobs").asInt());
        assertEquals("S3 x 2 units", n.get("describe").asText());
    }
}
