package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.service.query.QueryClient;
import com.microsoft.azure.sdk.iot.service.query.RawQueryResponse;
import com.microsoft.azure.sdk.iot.service.query.TwinQueryResponse;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Twin keys with hyphens (built from random UUIDs, as the service SDK's own query e2e test does) in a GROUP BY
 * query through the unmodified QueryClient.
 */
@ExtendWith(LocalHubExtension.class)
class QueryHyphenKeyIT {

    @Test
    void groupByAKeyBuiltFromAUuid(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("hyph");
        // All-digit UUID groups (-4123-) are the case a number-reading lexer trips over first.
        String key = "KeyQuery" + UUID.randomUUID() + "-4123-459d";
        List<String> ids = TestDevices.bulkRegister(run, 3, Json.object().put("run", run));
        TwinClient twins = new TwinClient(hub.hubConnectionString());
        for (int i = 0; i < ids.size(); i++) {
            Twin twin = twins.get(ids.get(i));
            twin.getDesiredProperties().put(key, i < 2 ? "a" : "b");
            twins.patch(twin);
        }

        QueryClient queries = new QueryClient(hub.hubConnectionString());
        RawQueryResponse groups = queries.queryRaw("SELECT properties.desired." + key + " AS " + key
                + ", COUNT() AS numberOfDevices FROM devices WHERE tags.run = '" + run + "' GROUP BY properties.desired." + key);
        Map<String, Integer> counts = new HashMap<>();
        while (groups.hasNext()) {
            var row = Json.parse(groups.next().getBytes());
            counts.put(row.get(key).asText(), row.get("numberOfDevices").asInt());
        }
        assertEquals(Map.of("a", 2, "b", 1), counts);

        TwinQueryResponse matching = queries.queryTwins("SELECT * FROM devices WHERE properties.desired." + key + " = 'b'");
        Set<String> seen = new HashSet<>();
        while (matching.hasNext()) {
            seen.add(matching.next().getDeviceId());
        }
        assertEquals(Set.of(ids.get(2)), seen);
    }
}
