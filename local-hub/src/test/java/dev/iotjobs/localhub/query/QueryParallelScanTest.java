package dev.iotjobs.localhub.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The parallel scan used for large collections must give exactly the sequential results, in order.
 * (Speed is measured by the benchmark, ./bench.sh query, not by a timed test.)
 */
class QueryParallelScanTest {

    static List<JsonNode> twins(int n) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        List<JsonNode> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ObjectNode t = f.objectNode();
            t.put("deviceId", "dev-" + i).put("etag", "AAAAAAAAAAE=").put("deviceEtag", "NjM=").put("version", 3)
                    .put("status", "enabled").put("statusUpdateTime", "0001-01-01T00:00:00Z")
                    .put("connectionState", "Disconnected").put("lastActivityTime", "0001-01-01T00:00:00Z")
                    .put("cloudToDeviceMessageCount", 0).put("authenticationType", "sas").put("modelId", "");
            ObjectNode tags = t.putObject("tags");
            if (i % 3 == 0) {
                tags.put("x", i % 2 == 0 ? "y" : "z");
            }
            tags.put("building", "43");
            ObjectNode props = t.putObject("properties");
            props.putObject("desired").put("$version", 1);
            props.putObject("reported").put("fw", "2.0").put("$version", 1);
            out.add(t);
        }
        return out;
    }

    @Test
    void parallelScanKeepsDocumentOrderAndMatchesSequentialResults() {
        List<JsonNode> docs = twins(Scan.PARALLEL_THRESHOLD * 2);
        Iterable<JsonNode> sequential = docs::iterator; // not a Collection: scanned sequentially
        for (String text : List.of("SELECT * FROM devices WHERE tags.x = 'z'",
                "SELECT deviceId FROM devices WHERE tags.x IN ['y', 'z']",
                "SELECT COUNT() AS n FROM devices WHERE NOT IS_DEFINED(tags.x)",
                "SELECT COUNT() AS n FROM devices")) {
            Query q = Query.parse(text);
            List<ObjectNode> parallel = q.execute(docs);
            assertEquals(q.execute(sequential), parallel, text);
        }
        List<ObjectNode> rows = Query.parse("SELECT * FROM devices WHERE tags.x = 'z'").execute(docs);
        for (int i = 1; i < rows.size(); i++) {
            int prev = Integer.parseInt(rows.get(i - 1).get("deviceId").asText().substring(4));
            int cur = Integer.parseInt(rows.get(i).get("deviceId").asText().substring(4));
            assertTrue(prev < cur, "rows keep document order");
        }
        assertEquals(docs.stream().filter(d -> "z".equals(d.path("tags").path("x").asText(null))).count(),
                rows.size());
    }
}
