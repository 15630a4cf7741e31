package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.query.QueryClient;
import com.microsoft.azure.sdk.iot.service.query.QueryPageOptions;
import com.microsoft.azure.sdk.iot.service.query.RawQueryResponse;
import com.microsoft.azure.sdk.iot.service.query.TwinQueryResponse;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** POST /devices/query through the unmodified QueryClient: paging, projections, aggregates, errors. */
@ExtendWith(LocalHubExtension.class)
class QueryApiIT {

    @Test
    void queryTwins_pagesThroughAThousandTwinsExactlyOnce(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("page");
        ObjectNode tags = Json.object().put("run", run);
        List<String> ids = TestDevices.bulkRegister(run, 1000, tags);

        QueryClient queries = new QueryClient(hub.hubConnectionString());
        TwinQueryResponse response = queries.queryTwins("SELECT * FROM devices WHERE tags.run = '" + run + "'",
                QueryPageOptions.builder().pageSize(37).build());
        Set<String> seen = new HashSet<>();
        int count = 0;
        while (response.hasNext()) {
            Twin twin = response.next();
            assertNotNull(twin.getConnectionState());
            assertNotNull(twin.getLastActivityTime());
            seen.add(twin.getDeviceId());
            count++;
        }
        assertEquals(1000, count, "every twin exactly once");
        assertEquals(new HashSet<>(ids), seen);
    }

    @Test
    void queryTwins_pageSizeOne_givesATokenThenNone(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("two");
        TestDevices.bulkRegister(run, 2, Json.object().put("run", run));
        QueryClient queries = new QueryClient(hub.hubConnectionString());
        TwinQueryResponse response = queries.queryTwins("select * from devices where tags.run = '" + run + "' ",
                QueryPageOptions.builder().pageSize(1).build());
        assertTrue(response.hasNext());
        response.next(QueryPageOptions.builder().pageSize(1).build());
        assertNotNull(response.getContinuationToken(), "first page of two carries a token");
        assertTrue(response.hasNext());
        response.next(QueryPageOptions.builder().pageSize(1).build());
        assertTrue(!response.hasNext(), "no third page");
    }

    @Test
    void queryRaw_countAndGroupBy(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("agg");
        TestDevices.bulkRegister(run + "-a", 3, Json.object().put("run", run).put("fw", "1.0"));
        TestDevices.bulkRegister(run + "-b", 2, Json.object().put("run", run).put("fw", "2.0"));
        QueryClient queries = new QueryClient(hub.hubConnectionString());

        RawQueryResponse count = queries.queryRaw("SELECT COUNT() AS n FROM devices WHERE tags.run = '" + run + "'");
        assertEquals(5, Json.parse(count.next().getBytes()).get("n").asInt());

        RawQueryResponse groups = queries.queryRaw("SELECT tags.fw AS fw, COUNT() AS n FROM devices WHERE tags.run = '"
                + run + "' GROUP BY tags.fw");
        Set<String> rows = new HashSet<>();
        while (groups.hasNext()) {
            var row = Json.parse(groups.next().getBytes());
            rows.add(row.get("fw").asText() + "=" + row.get("n").asInt());
        }
        assertEquals(Set.of("1.0=3", "2.0=2"), rows);
    }

    @Test
    void queryTwins_caseInsensitiveDeviceIdAndInList(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("case");
        List<String> ids = TestDevices.bulkRegister(run, 3, Json.object().put("run", run));
        QueryClient queries = new QueryClient(hub.hubConnectionString());
        TwinQueryResponse response = queries.queryTwins("SELECT * FROM devices WHERE DeviceId IN ['" + ids.get(0)
                + "', '" + ids.get(2) + "']");
        Set<String> seen = new HashSet<>();
        while (response.hasNext()) {
            seen.add(response.next().getDeviceId());
        }
        assertEquals(Set.of(ids.get(0), ids.get(2)), seen);
    }

    @Test
    void queryTwins_malformed_is400WithPosition(LocalHub hub) {
        QueryClient queries = new QueryClient(hub.hubConnectionString());
        IotHubException e = assertThrows(IotHubException.class,
                () -> queries.queryTwins("SELECT * FROM devices WHERE tags.x = "));
        assertEquals(400004, e.getErrorCode());
        assertTrue(e.getMessage().contains("position"), e.getMessage());
    }
}
