package dev.iotjobs.schedulejobs;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubUnauthorizedException;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.JobStatistics;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.query.QueryClient;
import com.microsoft.azure.sdk.iot.service.query.RawQueryResponse;
import com.microsoft.azure.sdk.iot.service.twin.Twin;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The back-end app of the Azure IoT Hub tutorial "Schedule and broadcast jobs": it schedules a {@code lockDoor}
 * direct method job and a desired-property job for one device, follows both, and shows what the device answered.
 * <pre>
 *   ScheduleJobService "HostName=...;SharedAccessKeyName=...;SharedAccessKey=..." [deviceId]
 *   (or set IOTHUB_CONNECTION_STRING and IOTHUB_DEVICE_ID; POLL_INTERVAL_SECONDS, default 5)</pre>
 * The policy needs Registry Write and Service Connect. Exit code: 0 when both jobs completed on every device,
 * 1 when they did not, 2 for bad settings, 3 when the hub cannot be reached or refuses a request.
 */
public final class ScheduleJobService {
    static final int SUCCESS = 0, JOBS_UNSUCCESSFUL = 1, BAD_SETTINGS = 2, HUB_ERROR = 3;
    static final int MAX_EXECUTION_SECONDS = 60;
    private static volatile boolean finished; // false while the jobs are followed: then Ctrl-C says goodbye

    public static void main(String[] args) throws InterruptedException {
        String connectionString = setting(args, 0, "IOTHUB_CONNECTION_STRING", "");
        String deviceId = setting(args, 1, "IOTHUB_DEVICE_ID", "myDeviceId");
        String pollSeconds = setting(new String[0], 0, "POLL_INTERVAL_SECONDS", "5");
        if (connectionString.isEmpty() || !pollSeconds.matches("[1-9][0-9]{0,3}")) {
            System.out.println("Usage: ScheduleJobService <hub connection string> [device id], or set "
                    + "IOTHUB_CONNECTION_STRING (POLL_INTERVAL_SECONDS, if set, is 1 to 9999)");
            System.exit(BAD_SETTINGS);
        }
        String host = part(connectionString, "HostName");
        System.out.println("Starting the IoT Hub jobs Java sample...");
        System.out.println("    Connection string = " + hideKeys(connectionString));
        System.out.println("    Device ID         = " + deviceId);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.print(finished ? "" : System.lineSeparator()
                + "Stopped; the jobs go on running on the hub until they end." + System.lineSeparator())));

        int exitCode;
        try {
            checkKeyIsBase64(part(connectionString, "SharedAccessKey")); // a typo shows now, not at the first request
            ScheduledJobsClient jobsClient = new ScheduledJobsClient(connectionString);
            // Jobs pick their devices with a query; quoting the id keeps a quote inside it from changing the query.
            String condition = "DeviceId IN [" + quote(deviceId) + "]";
            String methodJobId = scheduleMethodJob(jobsClient, condition);                     // step 1
            String twinJobId = scheduleTwinJob(jobsClient, condition);                         // step 2
            List<ScheduledJob> jobs = followJobs(jobsClient, pollSeconds, methodJobId, twinJobId); // step 3
            printDeviceOutcomes(new QueryClient(connectionString), methodJobId);               // step 4
            exitCode = verdict(jobs);
        } catch (IllegalArgumentException e) {      // the SDK's checks of the connection string and its key
            System.out.println("The hub connection string is malformed: " + hideKeys(e.getMessage())
                    + ". Expected HostName=<hub>.azure-devices.net;SharedAccessKeyName=<policy>;SharedAccessKey=<key>");
            exitCode = BAD_SETTINGS;
        } catch (IotHubException e) {
            System.out.println("The hub " + host + (e instanceof IotHubUnauthorizedException
                    ? " refused the credentials: check the policy name and key." : " refused the request: IoT Hub error "
                    + e.getErrorCode() + " (" + e.getErrorCodeDescription() + "): " + e.getMessage()));
            exitCode = HUB_ERROR;
        } catch (IOException e) {
            System.out.println("Could not reach the hub " + host + ": " + rootCause(e) + ". Is the host right and the hub running?");
            exitCode = HUB_ERROR;
        }
        finished = true;
        System.exit(exitCode);
    }

    // Step 1: a job that calls lockDoor on every device the query condition selects. Each job gets a fresh
    // UUID, so reruns never collide with old jobs. "new Date()" starts it now; a later date makes the hub wait.
    static String scheduleMethodJob(ScheduledJobsClient client, String condition) throws IOException, IotHubException {
        String jobId = UUID.randomUUID().toString();
        System.out.println(System.lineSeparator() + "Scheduling job: " + jobId);
        DirectMethodsJobOptions options = DirectMethodsJobOptions.builder()
                .payload(Map.of("lockTime", "10m"))           // a Map, so the device receives a JSON object
                .maxExecutionTimeSeconds(MAX_EXECUTION_SECONDS)
                .methodConnectTimeoutSeconds(30)              // how long to wait for an offline device
                .methodResponseTimeoutSeconds(30)             // how long the device may take to answer
                .build();
        client.scheduleDirectMethod(jobId, condition, "lockDoor", new Date(), options);
        System.out.println("Direct method called with Job Id: " + jobId);
        return jobId;
    }

    // Step 2: a job that sets desired properties on the same devices. No device id in the twin: the query
    // condition decides; the ETag "*" applies the patch whatever each twin's current version is.
    static String scheduleTwinJob(ScheduledJobsClient client, String condition) throws IOException, IotHubException {
        String jobId = UUID.randomUUID().toString();
        System.out.println(System.lineSeparator() + "Scheduling job: " + jobId);
        Twin update = new Twin();
        update.getDesiredProperties().putAll(Map.of("building", 43, "floor", 3));
        update.setETag("*");
        client.scheduleUpdateTwin(jobId, condition, update, new Date(), MAX_EXECUTION_SECONDS);
        System.out.println("Device twin called with Job Id: " + jobId);
        return jobId;
    }

    static String quote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    // Step 3: ask the hub for both jobs until each has ended. A job that has not ended well after its own
    // time limit is not going to, so the app stops waiting then.
    static List<ScheduledJob> followJobs(ScheduledJobsClient client, String pollSeconds, String... jobIds)
            throws IOException, IotHubException, InterruptedException {
        Instant giveUpAt = Instant.now().plusSeconds(3L * MAX_EXECUTION_SECONDS);
        while (true) {
            List<ScheduledJob> jobs = new ArrayList<>();
            System.out.println();
            for (String jobId : jobIds) {
                ScheduledJob job = client.get(jobId);
                jobs.add(job);
                JobStatistics s = job.getJobStatistics(); // null until the hub has picked the devices
                System.out.println("...job " + jobId + " " + job.getJobStatus() + (s == null ? "" : " (devices: "
                        + s.getSucceededCount() + " succeeded, " + s.getFailedCount() + " failed, " + s.getRunningCount()
                        + " running, " + s.getPendingCount() + " pending of " + s.getDeviceCount() + ")"));
            }
            if (jobs.stream().allMatch(ScheduleJobService::ended) || Instant.now().isAfter(giveUpAt)) {
                return jobs;
            }
            System.out.println("Job status posted, press Ctrl-C to exit");
            Thread.sleep(Integer.parseInt(pollSeconds) * 1000L);
        }
    }

    static boolean ended(ScheduledJob job) {
        return List.of(ScheduledJobStatus.completed, ScheduledJobStatus.failed, ScheduledJobStatus.cancelled)
                .contains(job.getJobStatus());
    }

    // Step 4: what did each device answer? Every device a job touched has a record in devices.jobs.
    static void printDeviceOutcomes(QueryClient client, String jobId) throws IOException, IotHubException {
        System.out.println(System.lineSeparator() + "Device outcomes of job " + jobId + ":");
        RawQueryResponse rows = client.queryRaw("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = " + quote(jobId));
        while (rows.hasNext()) {
            JsonObject row = JsonParser.parseString(rows.next()).getAsJsonObject();
            JsonObject outcome = row.has("outcome") ? row.getAsJsonObject("outcome") : new JsonObject();
            JsonObject answer = outcome.has("deviceMethodResponse") ? outcome.getAsJsonObject("deviceMethodResponse") : null;
            System.out.println("    " + row.get("deviceId").getAsString() + ": " + row.get("status").getAsString()
                    + (answer == null ? "" : ", the device answered " + answer.get("status") + " " + answer.get("payload"))
                    + (row.has("error") ? ", error " + row.get("error") : ""));
        }
    }

    /** Success means both jobs completed, on at least one device, and no device failed. */
    static int verdict(List<ScheduledJob> jobs) {
        int exitCode = SUCCESS;
        System.out.println();
        for (ScheduledJob job : jobs) {
            JobStatistics s = job.getJobStatistics();
            String problem = !ended(job) ? "is still " + job.getJobStatus() + " after " + 3 * MAX_EXECUTION_SECONDS + " s"
                    : job.getJobStatus() != ScheduledJobStatus.completed ? "ended " + job.getJobStatus() + ": " + job.getFailureReason()
                    : s == null || s.getDeviceCount() == 0 ? "matched no device; is the device id right?"
                    : s.getFailedCount() > 0 ? "failed on " + s.getFailedCount() + " of " + s.getDeviceCount() + " devices"
                    : null;
            if (problem != null) {
                System.out.println("Not successful: job " + job.getJobId() + " " + problem);
                exitCode = JOBS_UNSUCCESSFUL;
            }
        }
        System.out.print(exitCode == SUCCESS ? "Both jobs completed on every device." + System.lineSeparator() : "");
        return exitCode;
    }

    /** An argument wins over its environment variable, which wins over the default. */
    static String setting(String[] args, int index, String variable, String fallback) {
        String value = args.length > index ? args[index] : System.getenv(variable);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    /** One part of a connection string, e.g. part(s, "HostName"); empty when it is missing. */
    static String part(String connectionString, String name) {
        Matcher part = Pattern.compile("(?i)(?:^|;)\\s*" + name + "\\s*=([^;]*)").matcher(connectionString);
        return part.find() ? part.group(1).trim() : "";
    }

    static void checkKeyIsBase64(String key) {
        if (!key.equals(Base64.getEncoder().encodeToString(Base64.getDecoder().decode(key)))) {
            throw new IllegalArgumentException("its SharedAccessKey is not valid base64 (a typo in its last characters?)");
        }
    }

    static String hideKeys(String text) {
        return String.valueOf(text).replaceAll("(?i)(SharedAccessKey|SharedAccessSignature)\\s*=[^;]*", "$1=<hidden>");
    }

    static String rootCause(Throwable e) {
        return e.getCause() == null || e.getCause() == e ? e.toString() : rootCause(e.getCause());
    }
}
