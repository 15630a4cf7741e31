package dev.iotjobs.localhub.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.json.Json;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What the console's refreshes cost on a big hub: the time of each call a page makes, through the console, with
 * {@code -Dbench.twins} twins (default 1,000,000), before and while a twin job runs over all of them. From the
 * repository's root, after {@code ./bench.sh} built the benchmarks module and wrote its classpath:
 * <pre>
 * java -Xmx6g -cp benchmarks/target/classes:$(cat benchmarks/target/bench.classpath) dev.iotjobs.localhub.bench.ConsoleScaleProbe
 * </pre>
 * It uses free ports, not 443/8883. Results are in docs/console.md.
 */
public final class ConsoleScaleProbe {
    private static HttpClient http;
    private static String console;

    private ConsoleScaleProbe() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.getInteger("bench.twins", 1_000_000);
        try (BenchHub bench = new BenchHub()) {
            console = bench.hub.startConsole(0);
            http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
            long t0 = System.nanoTime();
            bench.register("scale", n, Json.object().put("building", 42));
            System.out.printf("registered %,d twins in %.1f s; heap %d MB%n", n, (System.nanoTime() - t0) / 1e9,
                    BenchHub.heapAfterGcMb());

            String last = "scale-" + (n - 1);
            measure("device statistics", () -> call("GET", "statistics/devices", null));
            measure("devices page (SELECT *, 50 rows)", () -> query("SELECT * FROM devices", 50));
            measure("devices page, selective filter", () -> query("SELECT * FROM devices WHERE deviceId = '" + last + "'", 50));
            measure("connected count", () -> query("SELECT COUNT() AS n FROM devices WHERE connectionState = 'Connected'", 1));
            measure("device page twin", () -> call("GET", "twins/" + last, null));

            String job = "scale-twin-job";
            call("PUT", "jobs/v2/" + job, "{\"jobId\":\"" + job + "\",\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"*\","
                    + "\"updateTwin\":{\"etag\":\"*\",\"properties\":{\"desired\":{\"building\":43}}},"
                    + "\"maxExecutionTimeInSeconds\":3600}");
            long jobStart = System.nanoTime();
            while (true) {
                long s = System.nanoTime();
                JsonNode j = Json.parse(call("GET", "jobs/v2/" + job, null).getBytes(StandardCharsets.UTF_8));
                long progressMs = (System.nanoTime() - s) / 1_000_000;
                s = System.nanoTime();
                query("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '" + job + "' AND devices.jobs.status = 'failed'", 50);
                long recordsMs = (System.nanoTime() - s) / 1_000_000;
                JsonNode stats = j.path("deviceJobStatistics");
                System.out.printf("%5.1f s  %-9s succeeded %,9d of %,9d   job poll %4d ms   failed-records page %5d ms%n",
                        (System.nanoTime() - jobStart) / 1e9, j.path("status").asText(), stats.path("succeededCount").asLong(),
                        stats.path("deviceCount").asLong(), progressMs, recordsMs);
                if (j.path("status").asText().equals("completed") || j.path("status").asText().equals("failed")) {
                    break;
                }
                Thread.sleep(1000);
            }
            measure("job records page (all, 50 rows)", () -> query("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '" + job + "'", 50));
            measure("job records, failures first (none)", () -> query("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '"
                    + job + "' AND devices.jobs.status = 'failed'", 50));
            measure("job records, first page (TOP 51)", () -> query("SELECT TOP 51 * FROM devices.jobs WHERE devices.jobs.jobId = '"
                    + job + "'", 51));
            measure("jobs list", () -> call("GET", "jobs/v2/query", null));
        }
    }

    private interface Call {
        void run() throws Exception;
    }

    private static void measure(String what, Call call) throws Exception {
        long[] ms = new long[7];
        for (int i = 0; i < ms.length; i++) {
            long s = System.nanoTime();
            call.run();
            ms[i] = (System.nanoTime() - s) / 1_000_000;
        }
        Arrays.sort(ms);
        System.out.printf("%-40s median %5d ms   max %5d ms%n", what, ms[ms.length / 2], ms[ms.length - 1]);
    }

    private static String query(String text, int pageSize) throws Exception {
        return call("POST", "devices/query", "{\"query\":" + Json.string(Json.NODES.textNode(text)) + "}", pageSize);
    }

    private static String call(String method, String path, String body) throws Exception {
        return call(method, path, body, 0);
    }

    private static String call(String method, String path, String body, int pageSize) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(console + "api/" + path)).header("X-Console-Request", "1")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (pageSize > 0) {
            b.header("x-ms-max-item-count", Integer.toString(pageSize));
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }
}
