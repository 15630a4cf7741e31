package dev.iotjobs.schedulejobs;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.microsoft.azure.sdk.iot.service.auth.IotHubConnectionString;
import com.microsoft.azure.sdk.iot.service.auth.IotHubConnectionStringBuilder;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubUnauthorizedException;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.JobStatistics;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobType;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.query.QueryClient;
import com.microsoft.azure.sdk.iot.service.query.RawQueryResponse;
import com.microsoft.azure.sdk.iot.service.twin.Twin;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The back-end app of the Azure IoT Hub tutorial "Schedule and broadcast jobs": it schedules a {@code lockDoor}
 * direct method job and a desired-property job for one device, follows them, and shows what the device answered.
 */
public final class ScheduleJobService {
    // Exit codes: both jobs completed on every device, they did not, bad settings, hub unreachable or refusing.
    static final int SUCCESS = 0, JOBS_UNSUCCESSFUL = 1, BAD_SETTINGS = 2, HUB_ERROR = 3;
    static final int MAX_EXECUTION_SECONDS = 60, CONNECT_TIMEOUT_SECONDS = 30, RESPONSE_TIMEOUT_SECONDS = 30;
    static final List<ScheduledJobStatus> ENDED =
            List.of(ScheduledJobStatus.completed, ScheduledJobStatus.failed, ScheduledJobStatus.cancelled);

    public static void main(String[] args) throws InterruptedException {
        // The settings: an argument wins over its environment variable, which wins over the default.
        String connectionString = args.length > 0 ? args[0] : System.getenv("IOTHUB_CONNECTION_STRING");
        String deviceId = args.length > 1 ? args[1] : System.getenv().getOrDefault("IOTHUB_DEVICE_ID", "myDeviceId");
        String pollSetting = System.getenv().getOrDefault("POLL_INTERVAL_SECONDS", "5");
        if (connectionString == null || connectionString.isBlank() || !pollSetting.matches("[1-9][0-9]{0,3}")) {
            System.out.println("Usage: ScheduleJobService <hub connection string> [device id], or set "
                    + "IOTHUB_CONNECTION_STRING (POLL_INTERVAL_SECONDS, if set, is 1 to 9999)");
            System.exit(BAD_SETTINGS);
        }
        int pollSeconds = Integer.parseInt(pollSetting);
        System.out.println("Starting the IoT Hub jobs Java sample...");
        System.out.println("    Connection string = " + hideKeys(connectionString));
        System.out.println("    Device ID         = " + deviceId);
        String host;
        try { // the SDK's own parser, and a check of the key: a typo shows now, not as a refusal at the first request
            IotHubConnectionString parts = IotHubConnectionStringBuilder.createIotHubConnectionString(connectionString);
            checkKeyIsBase64(parts.getSharedAccessKey());
            host = parts.getHostName();
        } catch (IllegalArgumentException e) {
            System.out.println("The hub connection string is malformed: " + hideKeys(e.getMessage())
                    + ". Expected HostName=<hub>.azure-devices.net;SharedAccessKeyName=<policy>;SharedAccessKey=<key>");
            System.exit(BAD_SETTINGS);
            return;
        }

        // Ctrl-C while the jobs are followed stops this app, not the jobs: it says so.
        Thread goodbye = new Thread(() -> System.out.println("\nStopped; the jobs go on running on the hub."));
        Runtime.getRuntime().addShutdownHook(goodbye);
        int exitCode = HUB_ERROR; // unless the steps get as far as the verdict
        try {
            ScheduledJobsClient client = new ScheduledJobsClient(connectionString);
            // Jobs pick their devices with a query; escaping keeps a quote in the id from changing the query.
            String condition = "DeviceId IN ['" + deviceId.replace("\\", "\\\\").replace("'", "\\'") + "']";
            String methodJobId = schedule(jobId -> scheduleMethodJob(client, jobId, condition)); // step 1
            String twinJobId = schedule(jobId -> scheduleTwinJob(client, jobId, condition));     // step 2
            List<ScheduledJob> jobs = followJobs(client, pollSeconds, methodJobId, twinJobId);  // step 3
            printDeviceOutcomes(new QueryClient(connectionString), methodJobId);                 // step 4
            exitCode = verdict(jobs);
        } catch (IotHubUnauthorizedException e) {
            System.out.println("The hub " + host + " refused the credentials: check the policy name and key.");
        } catch (IotHubException e) { // any other refusal, throttling (429xxx) and the daily quota (403002) included
            System.out.println("The hub " + host + " refused the request: IoT Hub error " + e.getErrorCode()
                    + " (" + e.getErrorCodeDescription() + "): " + e.getMessage());
        } catch (IOException e) {
            System.out.println("Could not reach the hub " + host + ": " + e
                    + ". Is the host right and the hub running?");
        }
        Runtime.getRuntime().removeShutdownHook(goodbye);
        System.exit(exitCode);
    }

    interface JobRequest { // sends one job request; throws what the SDK's requests throw
        void send(String jobId) throws IOException, IotHubException;
    }

    // Each job gets a fresh id, so reruns never collide with old jobs. A hub runs only so many jobs at once
    // (Free and S1: one, S2: five, S3: ten) and refuses more with 429004: then wait 2, 4, 8, 16, 32 s and retry.
    static String schedule(JobRequest request) throws IOException, IotHubException, InterruptedException {
        String jobId = UUID.randomUUID().toString();
        for (int waitSeconds = 2; ; waitSeconds *= 2) {
            try {
                request.send(jobId);
                return jobId;
            } catch (IotHubException e) {
                if (e.getErrorCode() != 429004 || waitSeconds > 32) {
                    throw e;
                }
                System.out.println("The hub runs no more jobs at once (429004, its tier's limit): retrying in "
                        + waitSeconds + " s");
                Thread.sleep(waitSeconds * 1000L);
            }
        }
    }

    // Step 1: a job that calls lockDoor on every device the condition selects; "new Date()" starts it now.
    static void scheduleMethodJob(ScheduledJobsClient client, String jobId, String condition)
            throws IOException, IotHubException {
        DirectMethodsJobOptions options = DirectMethodsJobOptions.builder()
                .payload(Map.of("lockTime", "10m"))                     // a Map: the device receives a JSON object
                .maxExecutionTimeSeconds(MAX_EXECUTION_SECONDS)
                .methodConnectTimeoutSeconds(CONNECT_TIMEOUT_SECONDS)   // how long to wait for an offline device
                .methodResponseTimeoutSeconds(RESPONSE_TIMEOUT_SECONDS) // how long the device may take to answer
                .build();
        client.scheduleDirectMethod(jobId, condition, "lockDoor", new Date(), options);
        System.out.println("\nDirect method called with Job Id: " + jobId);
    }

    // Step 2: a job that sets desired properties on the same devices. No device id in the twin: the condition
    // decides; the ETag "*" applies the patch whatever each twin's current version is.
    static void scheduleTwinJob(ScheduledJobsClient client, String jobId, String condition)
            throws IOException, IotHubException {
        Twin update = new Twin();
        update.getDesiredProperties().putAll(Map.of("building", 43, "floor", 3));
        update.setETag("*");
        client.scheduleUpdateTwin(jobId, condition, update, new Date(), MAX_EXECUTION_SECONDS);
        System.out.println("Device twin called with Job Id: " + jobId);
    }

    // Step 3: ask the hub for both jobs, every few seconds, until both have ended.
    static List<ScheduledJob> followJobs(ScheduledJobsClient client, int pollSeconds, String... jobIds)
            throws IOException, IotHubException, InterruptedException {
        for (int poll = 1; ; poll++) {
            List<ScheduledJob> jobs = new ArrayList<>();
            for (String jobId : jobIds) {
                ScheduledJob job = client.get(jobId);
                jobs.add(job);
                JobStatistics s = job.getJobStatistics(); // null until the hub has picked the devices
                if (s == null) {
                    System.out.println("...job " + jobId + " " + job.getJobStatus());
                } else {
                    System.out.printf("...job %s %s (devices: %d succeeded, %d failed, %d running, %d pending of %d)%n",
                            jobId, job.getJobStatus(), s.getSucceededCount(), s.getFailedCount(),
                            s.getRunningCount(), s.getPendingCount(), s.getDeviceCount());
                }
                // A method job that has not ended after the first poll is waiting for its device: say why.
                if (poll > 1 && !ENDED.contains(job.getJobStatus())
                        && job.getJobType() == ScheduledJobType.scheduleDeviceMethod) {
                    System.out.printf("   (the job waits up to %d s for the device to connect, then %d s for its"
                            + " answer: is the device app running?)%n",
                            CONNECT_TIMEOUT_SECONDS, RESPONSE_TIMEOUT_SECONDS);
                }
            }
            if (jobs.stream().allMatch(job -> ENDED.contains(job.getJobStatus()))) {
                return jobs;
            }
            System.out.println("Job status posted, press Ctrl-C to exit");
            Thread.sleep(pollSeconds * 1000L);
        }
    }

    // Step 4: what did each device answer? Every device a job touched has a record in devices.jobs (read raw:
    // the SDK's typed queryJobs does not keep the device's answer).
    static void printDeviceOutcomes(QueryClient client, String jobId) throws IOException, IotHubException {
        System.out.println("\nDevice outcomes of job " + jobId + ":");
        RawQueryResponse rows = client.queryRaw("SELECT * FROM devices.jobs WHERE devices.jobs.jobId='" + jobId + "'");
        while (rows.hasNext()) {
            JsonObject row = JsonParser.parseString(rows.next()).getAsJsonObject();
            String line = "    " + row.get("deviceId").getAsString() + ": " + row.get("status").getAsString();
            if (row.get("outcome") instanceof JsonObject outcome // a method job's device answered
                    && outcome.get("deviceMethodResponse") instanceof JsonObject answer) {
                line += ", the device answered " + answer.get("status") + " " + answer.get("payload");
            }
            if (row.has("error")) {
                line += ", error " + row.get("error");
            }
            System.out.println(line);
        }
    }

    // Success means both jobs completed, on at least one device, and no device failed.
    static int verdict(List<ScheduledJob> jobs) {
        for (ScheduledJob job : jobs) {
            JobStatistics s = job.getJobStatistics();
            String problem = null;
            if (job.getJobStatus() != ScheduledJobStatus.completed) {
                problem = "ended " + job.getJobStatus() + ": " + job.getFailureReason();
            } else if (s == null || s.getDeviceCount() == 0) {
                problem = "matched no device; is the device id right?";
            } else if (s.getFailedCount() > 0) {
                problem = "failed on " + s.getFailedCount() + " of " + s.getDeviceCount() + " devices";
            }
            if (problem != null) {
                System.out.println("\nNot successful: job " + job.getJobId() + " " + problem);
                return JOBS_UNSUCCESSFUL;
            }
        }
        System.out.println("\nBoth jobs completed on every device.");
        return SUCCESS;
    }

    // A typo in a key's last characters may still decode (the unused bits are dropped), but not re-encode.
    static void checkKeyIsBase64(String key) {
        if (!key.equals(Base64.getEncoder().encodeToString(Base64.getDecoder().decode(key)))) {
            throw new IllegalArgumentException("its SharedAccessKey is not valid base64 (a typo in its last"
                    + " characters?)");
        }
    }

    static String hideKeys(String text) {
        return String.valueOf(text).replaceAll("(?i)(SharedAccessKey|SharedAccessSignature)\\s*=[^;]*", "$1=<hidden>");
    }
}
