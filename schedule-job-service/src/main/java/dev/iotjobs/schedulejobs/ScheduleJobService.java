package dev.iotjobs.schedulejobs;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.JobStatistics;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.query.QueryClient;
import com.microsoft.azure.sdk.iot.service.query.RawQueryResponse;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import dev.iotjobs.localhub.LocalHubTrust;
import dev.iotjobs.localhub.config.WellKnownKeys;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The back-end app of the "Schedule and broadcast jobs" tutorial. It schedules two jobs for one device, a
 * {@code lockDoor} direct method call and a desired-property update, then follows them until they end.
 * <p>
 * Settings (an argument wins over its environment variable, which wins over the local hub's default):
 * <pre>
 *   args[0] or IOTHUB_CONNECTION_STRING  hub connection string of a policy with Registry Write + Service Connect
 *   args[1] or IOTHUB_DEVICE_ID          the device the jobs target
 *   POLL_INTERVAL_SECONDS                how often to ask the hub for progress (default 5)
 * </pre>
 * Exit code: 0 when both jobs completed on every device, 1 when they did not, 2 for bad settings, 3 when the
 * hub could not be reached or refused a request, 130 after Ctrl-C.
 */
public final class ScheduleJobService {
    static final String METHOD_NAME = "lockDoor";
    static final Map<String, Object> METHOD_PAYLOAD = Map.of("lockTime", "10m");
    static final Map<String, Object> DESIRED_PROPERTIES = Map.of("building", 43, "floor", 3);
    static final int MAX_EXECUTION_SECONDS = 60;
    // A job that has not ended well after its own time limit is not going to; stop waiting then.
    static final Duration DEADLINE = Duration.ofSeconds(3L * MAX_EXECUTION_SECONDS);

    static final int SUCCESS = 0, JOBS_UNSUCCESSFUL = 1, BAD_SETTINGS = 2, HUB_ERROR = 3, STOPPED = 130;

    private ScheduleJobService() {
    }

    public static void main(String[] args) {
        int exitCode = run(args, System.getenv(), System.out);
        if (exitCode != STOPPED) { // after Ctrl-C the JVM is already shutting down; System.exit would hang
            System.exit(exitCode);
        }
    }

    /** The whole tutorial flow; returns the exit code instead of exiting, so a test can call it. */
    public static int run(String[] args, Map<String, String> env, PrintStream out) {
        Settings settings;
        try {
            settings = Settings.resolve(args, env);
        } catch (IllegalArgumentException e) {
            out.println(e.getMessage());
            return BAD_SETTINGS;
        }
        out.println("Starting the IoT Hub jobs Java sample...");
        out.println("    Connection string = " + redact(settings.connectionString()));
        out.println("    Device ID         = " + settings.deviceId());

        try (CtrlC stopsPolling = new CtrlC()) {
            return scheduleAndFollowJobs(settings, out);
        }
    }

    /** The tutorial itself: schedule both jobs, follow them, show what the device answered, judge the result. */
    static int scheduleAndFollowJobs(Settings settings, PrintStream out) {
        ScheduledJobsClient jobsClient;
        QueryClient queryClient;
        try {
            jobsClient = new ScheduledJobsClient(settings.connectionString());
            queryClient = new QueryClient(settings.connectionString());
        } catch (IllegalArgumentException e) { // the SDK's own checks of the connection string
            out.println("The hub connection string is malformed: " + redact(String.valueOf(e.getMessage())));
            return BAD_SETTINGS;
        }
        try {
            // LOCAL HUB ONLY: trusts the local hub's development certificate; against an Azure hub it does nothing.
            LocalHubTrust.trustLocalHubIfTargeted(settings.connectionString());

            String methodJobId = scheduleMethodJob(jobsClient, settings.deviceId(), out);
            String twinJobId = scheduleTwinJob(jobsClient, settings.deviceId(), out);
            List<JobSnapshot> jobs = pollUntilEnded(jobsClient, List.of(methodJobId, twinJobId), settings.pollInterval(), out);
            printDeviceOutcomes(queryClient, methodJobId, out);
            return verdict(jobs, out);
        } catch (IotHubException e) {
            out.println(describe(e));
            return HUB_ERROR;
        } catch (IOException e) {
            out.println("Could not reach the hub: " + e); // e.g. java.net.UnknownHostException: <host>
            return HUB_ERROR;
        } catch (IllegalStateException e) { // from LocalHubTrust: the local hub has not been started yet
            out.println(e.getMessage());
            return HUB_ERROR;
        } catch (InterruptedException e) {
            out.println(System.lineSeparator() + "IoT Hub jobs sample stopped; the jobs keep running on the hub.");
            return STOPPED;
        }
    }

    // ---- Step 1: schedule the jobs. Each gets a fresh UUID so that reruns never collide with old jobs. ----

    static String scheduleMethodJob(ScheduledJobsClient client, String deviceId, PrintStream out)
            throws IOException, IotHubException {
        String jobId = UUID.randomUUID().toString();
        out.println();
        out.println("Scheduling job: " + jobId);
        // "new Date()" means start now; a date in the future would make the hub hold the job until then.
        client.scheduleDirectMethod(jobId, deviceQueryCondition(deviceId), METHOD_NAME, new Date(), methodJobOptions());
        out.println();
        out.println("Direct method called with Job Id: " + jobId);
        return jobId;
    }

    static DirectMethodsJobOptions methodJobOptions() {
        return DirectMethodsJobOptions.builder()
                .payload(METHOD_PAYLOAD)                      // a Map, so the device receives a JSON object
                .maxExecutionTimeSeconds(MAX_EXECUTION_SECONDS)
                .methodConnectTimeoutSeconds(30)              // how long to wait for an offline device
                .methodResponseTimeoutSeconds(30)             // how long the device may take to answer
                .build();
    }

    static String scheduleTwinJob(ScheduledJobsClient client, String deviceId, PrintStream out)
            throws IOException, IotHubException {
        String jobId = UUID.randomUUID().toString();
        out.println();
        out.println("Scheduling job: " + jobId);
        client.scheduleUpdateTwin(jobId, deviceQueryCondition(deviceId), desiredPropertiesUpdate(), new Date(),
                MAX_EXECUTION_SECONDS);
        out.println();
        out.println("Device twin called with Job Id: " + jobId);
        return jobId;
    }

    static Twin desiredPropertiesUpdate() {
        Twin update = new Twin(); // no device id: the job's query condition decides which twins get it
        update.getDesiredProperties().putAll(DESIRED_PROPERTIES);
        update.setETag("*");      // "*" = apply whatever the twin's current version is
        return update;
    }

    /** Jobs pick their devices with a query; quoting the id keeps a quote in it from changing the query. */
    static String deviceQueryCondition(String deviceId) {
        return "DeviceId IN [" + quote(deviceId) + "]";
    }

    static String deviceJobsQuery(String jobId) {
        return "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = " + quote(jobId);
    }

    static String quote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    // ---- Step 2: follow both jobs until each has ended, or the deadline passes. ----

    static List<JobSnapshot> pollUntilEnded(ScheduledJobsClient client, List<String> jobIds, Duration interval,
                                               PrintStream out) throws IOException, IotHubException, InterruptedException {
        Instant giveUpAt = Instant.now().plus(DEADLINE);
        while (true) {
            out.println();
            List<JobSnapshot> jobs = new ArrayList<>();
            for (String jobId : jobIds) {
                JobSnapshot job = JobSnapshot.of(client.get(jobId));
                jobs.add(job);
                out.println(statusLine(job));
            }
            if (jobs.stream().allMatch(JobSnapshot::ended) || Instant.now().isAfter(giveUpAt)) {
                return jobs;
            }
            out.println("Job status posted, press Ctrl-C to exit");
            Thread.sleep(interval.toMillis());
        }
    }

    /** What we need of a job, in plain values so the decisions below can be tested without a hub. */
    record JobSnapshot(String jobId, ScheduledJobStatus status, String failureReason,
                       int devices, int succeeded, int failed, int running, int pending) {
        static JobSnapshot of(ScheduledJob job) {
            JobStatistics s = job.getJobStatistics(); // null until the hub has picked the devices
            return s == null
                    ? new JobSnapshot(job.getJobId(), job.getJobStatus(), job.getFailureReason(), 0, 0, 0, 0, 0)
                    : new JobSnapshot(job.getJobId(), job.getJobStatus(), job.getFailureReason(), s.getDeviceCount(),
                    s.getSucceededCount(), s.getFailedCount(), s.getRunningCount(), s.getPendingCount());
        }

        boolean ended() {
            return status == ScheduledJobStatus.completed || status == ScheduledJobStatus.failed
                    || status == ScheduledJobStatus.cancelled;
        }
    }

    static String statusLine(JobSnapshot job) {
        return String.format(Locale.ROOT, "...job %s %s (devices: %d succeeded, %d failed, %d running, %d pending of %d)",
                job.jobId(), job.status(), job.succeeded(), job.failed(), job.running(), job.pending(), job.devices());
    }

    // ---- Step 3: what did the device answer? Each device a job touched has a record in devices.jobs. ----

    static void printDeviceOutcomes(QueryClient client, String methodJobId, PrintStream out)
            throws IOException, IotHubException {
        out.println();
        out.println("Device outcomes of job " + methodJobId + ":");
        RawQueryResponse rows = client.queryRaw(deviceJobsQuery(methodJobId));
        while (rows.hasNext()) {
            out.println("    " + deviceOutcome(rows.next()));
        }
    }

    static String deviceOutcome(String deviceJobJson) {
        JsonObject record = JsonParser.parseString(deviceJobJson).getAsJsonObject();
        String line = text(record, "deviceId") + ": " + text(record, "status");
        JsonObject outcome = record.getAsJsonObject("outcome");
        if (outcome != null && outcome.has("deviceMethodResponse")) {
            JsonObject response = outcome.getAsJsonObject("deviceMethodResponse");
            line += ", the device answered " + response.get("status") + " " + response.get("payload");
        }
        JsonObject error = record.getAsJsonObject("error");
        if (error != null) {
            line += ", error " + text(error, "code") + ": " + text(error, "description");
        }
        return line;
    }

    private static String text(JsonObject json, String name) {
        return json.has(name) && json.get(name).isJsonPrimitive() ? json.get(name).getAsString() : "?";
    }

    // ---- Step 4: the exit code. Success means both jobs completed and no device failed. ----

    static int verdict(List<JobSnapshot> jobs, PrintStream out) {
        List<String> problems = problems(jobs);
        out.println();
        if (problems.isEmpty()) {
            out.println("Both jobs completed on every device.");
            return SUCCESS;
        }
        problems.forEach(problem -> out.println("Not successful: " + problem));
        return JOBS_UNSUCCESSFUL;
    }

    static List<String> problems(List<JobSnapshot> jobs) {
        List<String> problems = new ArrayList<>();
        for (JobSnapshot job : jobs) {
            if (!job.ended()) {
                problems.add("job " + job.jobId() + " is still " + job.status() + " after " + DEADLINE.toSeconds() + " s");
            } else if (job.status() != ScheduledJobStatus.completed) {
                problems.add("job " + job.jobId() + " ended " + job.status()
                        + (job.failureReason() == null ? "" : ": " + job.failureReason()));
            } else if (job.failed() > 0) {
                problems.add("job " + job.jobId() + " failed on " + job.failed() + " of " + job.devices() + " devices");
            } else if (job.devices() == 0) {
                problems.add("job " + job.jobId() + " matched no device; is the device id right?");
            }
        }
        return problems;
    }

    // ---- Errors and secrets ----

    /** One line: HTTP status, IoT Hub error code and message; a stack trace would not help the reader. */
    static String describe(IotHubException e) {
        // IoT Hub error codes are the HTTP status followed by three digits (404001: device not found); when the
        // hub sent no code of its own, the SDK puts the bare HTTP status there.
        int code = e.getErrorCode();
        String status = code >= 100_000 ? String.valueOf(code / 1000) : code >= 100 ? String.valueOf(code) : "unknown";
        return "The hub refused the request: HTTP " + status + ", IoT Hub error code " + code
                + " (" + e.getErrorCodeDescription() + "): " + e.getMessage();
    }

    /** Connection strings are shown with their key (or token) replaced, never in full. */
    static String redact(String connectionString) {
        return connectionString.replaceAll("(?i)(SharedAccessKey|SharedAccessSignature)(\\s*)=[^;]*", "$1$2=<hidden>");
    }

    record Settings(String connectionString, String deviceId, Duration pollInterval) {
        static Settings resolve(String[] args, Map<String, String> env) {
            String connectionString = pick(args, 0, env, "IOTHUB_CONNECTION_STRING", WellKnownKeys.HUB_CONNECTION_STRING);
            String deviceId = pick(args, 1, env, "IOTHUB_DEVICE_ID", WellKnownKeys.DEFAULT_DEVICE_ID);
            String problem = connectionStringProblem(connectionString);
            if (problem != null) {
                throw new IllegalArgumentException("The hub connection string is malformed: " + problem + ". Expected "
                        + "HostName=<hub>.azure-devices.net;SharedAccessKeyName=<policy>;SharedAccessKey=<key>");
            }
            String seconds = env.getOrDefault("POLL_INTERVAL_SECONDS", "5").trim();
            if (!seconds.matches("[1-9][0-9]{0,3}")) {
                throw new IllegalArgumentException("POLL_INTERVAL_SECONDS must be a whole number of seconds from 1 to 9999, not '" + seconds + "'");
            }
            return new Settings(connectionString, deviceId, Duration.ofSeconds(Integer.parseInt(seconds)));
        }

        private static String pick(String[] args, int index, Map<String, String> env, String variable, String fallback) {
            if (args.length > index && !args[index].isBlank()) {
                return args[index].trim();
            }
            String value = env.get(variable);
            return value == null || value.isBlank() ? fallback : value.trim();
        }
    }

    /** Says what is wrong with a hub connection string, or returns null when it has all the parts we need. */
    static String connectionStringProblem(String connectionString) {
        if (connectionString.matches("(?i)(.*;)?\\s*DeviceId\\s*=.*")) {
            return "it is a device connection string (it has DeviceId); use a shared access policy of the hub";
        }
        for (String name : List.of("HostName", "SharedAccessKeyName", "SharedAccessKey")) {
            if (!connectionString.matches("(?i)(.*;)?\\s*" + name + "\\s*=\\s*[^;\\s].*")) {
                return "it has no " + name + "=<value> part";
            }
        }
        return null;
    }

    /** While open, Ctrl-C interrupts the polling thread and gives it a moment to say goodbye. */
    private static final class CtrlC extends Thread implements AutoCloseable {
        private final Thread poller = Thread.currentThread();
        private final CountDownLatch done = new CountDownLatch(1);

        CtrlC() {
            Runtime.getRuntime().addShutdownHook(this);
        }

        @Override
        public void run() { // runs only when the JVM is shutting down
            poller.interrupt();
            try {
                done.await(10, TimeUnit.SECONDS); // a hub call in flight may need a moment to return
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(this);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C was pressed and this hook is running right now: nothing to remove.
            }
        }
    }
}
