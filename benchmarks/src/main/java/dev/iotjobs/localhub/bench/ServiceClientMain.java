package dev.iotjobs.localhub.bench;

import com.microsoft.azure.sdk.iot.service.exceptions.IotHubNotFoundException;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClientOptions;
import com.microsoft.azure.sdk.iot.service.query.JobQueryResponse;
import com.microsoft.azure.sdk.iot.service.query.QueryClient;
import com.microsoft.azure.sdk.iot.service.query.QueryPageOptions;
import com.microsoft.azure.sdk.iot.service.query.RawQueryResponse;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.it.Jobs;
import dev.iotjobs.localhub.json.Json;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The benchmarks' service side in a JVM of its own (started by {@link ServiceProcess} with the hub's client JVM
 * options), as a user's service app is: the unmodified {@code ScheduledJobsClient} and {@code QueryClient}. The
 * hub's JVM then compiles and runs only the hub, not the SDK's HTTP and JSON code.
 * <p>
 * One command per input line, one answer line each:
 * <ul>
 *   <li>{@code twin <jobId> <condition>}: scheduleUpdateTwin (tags.floor 3, desired building 43 and floor 3)</li>
 *   <li>{@code method <jobId> <condition>}: scheduleDeviceMethod lockDoor {@code {"lockTime":"10m"}}</li>
 *   <li>answer to both, once the job is terminal:
 *       {@code JOB <seconds> <status> <succeeded> <hub's time in ms, from the job's creation to its end>}. The job
 *       is polled every {@code bench.pollMillis} ms ({@link ServiceProcess#POLL_MILLIS}; the tutorial's service
 *       polls every 5 s): polls every 20 ms made a cold hub compile its HTTPS path during the job being measured.</li>
 *   <li>{@code count <query>}: {@code COUNT <n> <milliseconds>} from the query's first row, column n</li>
 *   <li>{@code latencies <jobId>}: {@code LATENCIES <ms> <ms> ...}, end minus start of each device's record</li>
 * </ul>
 */
public final class ServiceClientMain {
    private ServiceClientMain() {
    }

    public static void main(String[] args) throws Exception {
        ScheduledJobsClient jobs = new ScheduledJobsClient(WellKnownKeys.HUB_CONNECTION_STRING,
                ScheduledJobsClientOptions.builder().httpReadTimeoutSeconds(0).build());
        QueryClient queries = new QueryClient(WellKnownKeys.HUB_CONNECTION_STRING);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        // This JVM's first calls load the SDK's HTTP, TLS and JSON code (most of a second on two cores): done
        // here, before READY, so the first job's figures hold the hub's cold start and not this process's.
        for (int i = 0; i < 3; i++) {
            try {
                jobs.get("bench-no-such-job");
            } catch (IotHubNotFoundException expected) {
                // the answer every warm-up call gets
            }
        }
        System.out.println("READY");
        System.out.flush();
        String line;
        while ((line = in.readLine()) != null) {
            String[] words = line.split(" ", 3);
            String answer = switch (words[0]) {
                case "twin", "method" -> job(jobs, words[0], words[1], words[2]);
                case "count" -> count(queries, line.substring("count ".length()));
                case "latencies" -> latencies(queries, words[1]);
                default -> throw new IllegalArgumentException("unknown command " + line);
            };
            System.out.println(answer);
            System.out.flush();
        }
    }

    private static String job(ScheduledJobsClient jobs, String type, String jobId, String condition) throws Exception {
        long start = System.nanoTime();
        if (type.equals("twin")) {
            Twin patch = new Twin();
            patch.getTags().put("floor", 3);
            patch.getDesiredProperties().put("building", 43);
            patch.getDesiredProperties().put("floor", 3);
            jobs.scheduleUpdateTwin(jobId, condition, patch, new Date(), 3600);
        } else {
            jobs.scheduleDirectMethod(jobId, condition, "lockDoor", new Date(),
                    DirectMethodsJobOptions.builder().payload(Map.of("lockTime", "10m"))
                            .methodResponseTimeoutSeconds(60).methodConnectTimeoutSeconds(0)
                            .maxExecutionTimeSeconds(3600).build());
        }
        ScheduledJob done = Jobs.awaitTerminal(jobs, jobId, 3_600_000,
                Integer.getInteger("bench.pollMillis", ServiceProcess.POLL_MILLIS));
        double seconds = (System.nanoTime() - start) / 1e9;
        return String.format(Locale.ROOT, "JOB %.6f %s %d %d", seconds, done.getJobStatus(),
                done.getJobStatistics().getSucceededCount(), done.getEndTime().getTime() - done.getCreatedTime().getTime());
    }

    private static String count(QueryClient queries, String sql) throws Exception {
        long start = System.nanoTime();
        RawQueryResponse r = queries.queryRaw(sql);
        int count = Json.parse(r.next().getBytes()).get("n").asInt();
        return "COUNT " + count + " " + (System.nanoTime() - start) / 1_000_000;
    }

    private static String latencies(QueryClient queries, String jobId) throws Exception {
        JobQueryResponse rows = queries.queryJobs("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '" + jobId + "'",
                QueryPageOptions.builder().pageSize(100).build());
        List<Long> values = new ArrayList<>();
        while (rows.hasNext()) {
            ScheduledJob row = rows.next(QueryPageOptions.builder().pageSize(100).build());
            values.add(row.getEndTime().getTime() - row.getStartTime().getTime());
        }
        Collections.sort(values);
        return "LATENCIES " + values.stream().map(String::valueOf).collect(Collectors.joining(" "));
    }
}
