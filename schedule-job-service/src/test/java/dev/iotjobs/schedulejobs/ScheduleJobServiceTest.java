package dev.iotjobs.schedulejobs;

import com.google.gson.Gson;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.schedulejobs.ScheduleJobService.JobSnapshot;
import dev.iotjobs.schedulejobs.ScheduleJobService.Settings;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus.cancelled;
import static com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus.completed;
import static com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus.failed;
import static com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus.queued;
import static com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus.running;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The back-end app's own logic; nothing here talks to a hub. */
class ScheduleJobServiceTest {
    private static final String KEY = "c2VjcmV0LWtleS1kby1ub3QtcHJpbnQ=";
    private static final String AZURE = "HostName=contoso.azure-devices.net;SharedAccessKeyName=jobs;SharedAccessKey=" + KEY;
    private static final String OTHER = "HostName=fabrikam.azure-devices.net;SharedAccessKeyName=svc;SharedAccessKey=" + KEY;

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(console, true, StandardCharsets.UTF_8);

    private String console() {
        return console.toString(StandardCharsets.UTF_8);
    }

    private static JobSnapshot job(com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus status,
                                   int devices, int succeeded, int failed) {
        return new JobSnapshot("job-1", status, null, devices, succeeded, failed, 0, devices - succeeded - failed);
    }

    // ---- settings ----

    @Test
    void settings_defaultsAreTheLocalHub() {
        Settings settings = Settings.resolve(new String[0], Map.of());

        assertEquals(WellKnownKeys.HUB_CONNECTION_STRING, settings.connectionString());
        assertEquals(WellKnownKeys.DEFAULT_DEVICE_ID, settings.deviceId());
        assertEquals(Duration.ofSeconds(5), settings.pollInterval());
    }

    @Test
    void settings_environmentOverridesDefaults() {
        Settings settings = Settings.resolve(new String[0], Map.of("IOTHUB_CONNECTION_STRING", AZURE,
                "IOTHUB_DEVICE_ID", "door-7", "POLL_INTERVAL_SECONDS", "2"));

        assertEquals(AZURE, settings.connectionString());
        assertEquals("door-7", settings.deviceId());
        assertEquals(Duration.ofSeconds(2), settings.pollInterval());
    }

    @Test
    void settings_argumentsOverrideEnvironment() {
        Settings settings = Settings.resolve(new String[]{OTHER, "door-9"},
                Map.of("IOTHUB_CONNECTION_STRING", AZURE, "IOTHUB_DEVICE_ID", "door-7"));

        assertEquals(OTHER, settings.connectionString());
        assertEquals("door-9", settings.deviceId());
    }

    @Test
    void settings_oneArgumentSetsOnlyTheConnectionString() {
        Settings settings = Settings.resolve(new String[]{OTHER}, Map.of("IOTHUB_DEVICE_ID", "door-7"));

        assertEquals(OTHER, settings.connectionString());
        assertEquals("door-7", settings.deviceId());
    }

    @Test
    void settings_blankValuesCountAsUnset() {
        Settings settings = Settings.resolve(new String[]{" ", ""}, Map.of("IOTHUB_CONNECTION_STRING", " ",
                "IOTHUB_DEVICE_ID", ""));

        assertEquals(WellKnownKeys.HUB_CONNECTION_STRING, settings.connectionString());
        assertEquals(WellKnownKeys.DEFAULT_DEVICE_ID, settings.deviceId());
    }

    @Test
    void settings_pollIntervalMustBeAPositiveWholeNumber() {
        for (String bad : List.of("0", "-1", "1.5", "soon", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Settings.resolve(new String[0], Map.of("POLL_INTERVAL_SECONDS", bad)), bad);
            assertTrue(e.getMessage().contains("POLL_INTERVAL_SECONDS"));
        }
    }

    @Test
    void connectionStringProblem_acceptsCompleteHubStrings() {
        assertNull(ScheduleJobService.connectionStringProblem(AZURE));
        assertNull(ScheduleJobService.connectionStringProblem(WellKnownKeys.HUB_CONNECTION_STRING));
        assertNull(ScheduleJobService.connectionStringProblem("hostname=h.example; sharedaccesskeyname=p; sharedaccesskey=k;"));
    }

    @Test
    void connectionStringProblem_namesTheMissingPart() {
        assertEquals("it has no HostName=<value> part",
                ScheduleJobService.connectionStringProblem("SharedAccessKeyName=p;SharedAccessKey=k"));
        assertEquals("it has no SharedAccessKeyName=<value> part",
                ScheduleJobService.connectionStringProblem("HostName=h.example;SharedAccessKey=k"));
        assertEquals("it has no SharedAccessKey=<value> part",
                ScheduleJobService.connectionStringProblem("HostName=h.example;SharedAccessKeyName=p;SharedAccessKey="));
        assertEquals("it has no HostName=<value> part", ScheduleJobService.connectionStringProblem(KEY));
    }

    @Test
    void connectionStringProblem_rejectsADeviceConnectionString() {
        String problem = ScheduleJobService.connectionStringProblem(WellKnownKeys.DEVICE_CONNECTION_STRING);
        assertTrue(problem.contains("device connection string"), problem);
    }

    @Test
    void run_withAMalformedConnectionStringExplainsAndNeverPrintsTheKey() {
        int exitCode = ScheduleJobService.run(new String[]{"HostName=h.example;SharedAccessKey=" + KEY}, Map.of(), out);

        assertEquals(ScheduleJobService.BAD_SETTINGS, exitCode);
        assertTrue(console().contains("malformed: it has no SharedAccessKeyName"), console());
        assertFalse(console().contains(KEY), console());
    }

    @Test
    void run_withABadPollIntervalStopsBeforeContactingAnyHub() {
        int exitCode = ScheduleJobService.run(new String[0], Map.of("POLL_INTERVAL_SECONDS", "x"), out);

        assertEquals(ScheduleJobService.BAD_SETTINGS, exitCode);
        assertFalse(console().contains("Scheduling job"), console());
    }

    // ---- secrets ----

    @Test
    void redact_hidesTheKeyAndKeepsEverythingElse() {
        assertEquals("HostName=contoso.azure-devices.net;SharedAccessKeyName=jobs;SharedAccessKey=<hidden>",
                ScheduleJobService.redact(AZURE));
    }

    @Test
    void redact_hidesKeysInAnyCaseAndPositionAndSignatures() {
        assertEquals("sharedaccesskey=<hidden>;HostName=h", ScheduleJobService.redact("sharedaccesskey=abc=;HostName=h"));
        assertEquals("HostName=h;SharedAccessSignature=<hidden>",
                ScheduleJobService.redact("HostName=h;SharedAccessSignature=SharedAccessSignature sr=h&sig=x&se=1"));
        assertFalse(ScheduleJobService.redact(WellKnownKeys.HUB_CONNECTION_STRING).contains(WellKnownKeys.IOTHUBOWNER_KEY));
    }

    // ---- job requests ----

    @Test
    void deviceQueryCondition_quotesTheDeviceId() {
        assertEquals("DeviceId IN ['myDeviceId']", ScheduleJobService.deviceQueryCondition("myDeviceId"));
    }

    @Test
    void deviceQueryCondition_escapesQuotesAndBackslashes() {
        assertEquals("DeviceId IN ['o\\'brien']", ScheduleJobService.deviceQueryCondition("o'brien"));
        assertEquals("DeviceId IN ['x\\'] OR 1=1 OR [\\'']", ScheduleJobService.deviceQueryCondition("x'] OR 1=1 OR ['"));
        assertEquals("DeviceId IN ['a\\\\b']", ScheduleJobService.deviceQueryCondition("a\\b"));
    }

    @Test
    void deviceJobsQuery_selectsTheRecordsOfOneJob() {
        assertEquals("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'abc'", ScheduleJobService.deviceJobsQuery("abc"));
    }

    @Test
    void methodJobOptions_sendLockTimeAsAJsonObjectWithA60sLimit() {
        DirectMethodsJobOptions options = ScheduleJobService.methodJobOptions();

        assertEquals("{\"lockTime\":\"10m\"}", new Gson().toJson(options.getPayload()));
        assertEquals(60, options.getMaxExecutionTimeSeconds());
        assertTrue(options.getMethodConnectTimeoutSeconds() <= 60, "an offline device must not outlive the job");
        assertEquals("lockDoor", ScheduleJobService.METHOD_NAME);
    }

    @Test
    void desiredPropertiesUpdate_setsBuildingAndFloorForAnyTwinVersion() {
        Twin update = ScheduleJobService.desiredPropertiesUpdate();

        assertEquals(Map.of("building", 43, "floor", 3), Map.copyOf(update.getDesiredProperties()));
        assertEquals("*", update.getETag());
        assertNull(update.getDeviceId(), "the job's query picks the devices");
        assertTrue(update.getTags().isEmpty());
    }

    // ---- progress and outcome ----

    @Test
    void jobSnapshot_readsStatusAndStatisticsFromTheHubsAnswer() {
        ScheduledJob answer = new ScheduledJob("{\"jobId\":\"j1\",\"type\":\"scheduleDeviceMethod\",\"status\":\"running\","
                + "\"deviceJobStatistics\":{\"deviceCount\":4,\"succeededCount\":1,\"failedCount\":1,"
                + "\"runningCount\":1,\"pendingCount\":1}}");

        assertEquals(new JobSnapshot("j1", running, null, 4, 1, 1, 1, 1), JobSnapshot.of(answer));
    }

    @Test
    void jobSnapshot_withoutStatisticsCountsNothing() {
        ScheduledJob answer = new ScheduledJob("{\"jobId\":\"j2\",\"type\":\"scheduleUpdateTwin\",\"status\":\"queued\"}");

        assertEquals(new JobSnapshot("j2", queued, null, 0, 0, 0, 0, 0), JobSnapshot.of(answer));
    }

    @Test
    void statusLine_showsStatusAndEveryCounter() {
        JobSnapshot job = new JobSnapshot("j1", running, null, 10, 4, 3, 2, 1);

        assertEquals("...job j1 running (devices: 4 succeeded, 3 failed, 2 running, 1 pending of 10)",
                ScheduleJobService.statusLine(job));
    }

    @Test
    void ended_onlyForCompletedFailedAndCancelled() {
        assertTrue(job(completed, 1, 1, 0).ended());
        assertTrue(job(failed, 1, 0, 1).ended());
        assertTrue(job(cancelled, 1, 0, 0).ended());
        assertFalse(job(running, 1, 0, 0).ended());
        assertFalse(job(queued, 1, 0, 0).ended());
    }

    @Test
    void verdict_succeedsOnlyWhenBothJobsCompletedEverywhere() {
        assertEquals(0, ScheduleJobService.verdict(List.of(job(completed, 1, 1, 0), job(completed, 1, 1, 0)), out));
        assertTrue(console().contains("Both jobs completed"), console());
    }

    @Test
    void verdict_failsForAFailedOrCancelledJobWithTheReason() {
        JobSnapshot failedJob = new JobSnapshot("m", failed, "Timed out", 1, 0, 1, 0, 0);

        assertEquals(1, ScheduleJobService.verdict(List.of(failedJob, job(completed, 1, 1, 0)), out));
        assertTrue(console().contains("job m ended failed: Timed out"), console());
        assertEquals(1, ScheduleJobService.verdict(List.of(job(completed, 1, 1, 0), job(cancelled, 1, 0, 0)), out));
    }

    @Test
    void problems_completedJobWithFailedDevicesIsNotASuccess() {
        assertEquals(List.of("job job-1 failed on 1 of 3 devices"), ScheduleJobService.problems(List.of(job(completed, 3, 2, 1))));
    }

    @Test
    void problems_jobStillRunningAtTheDeadlineIsNotASuccess() {
        String problem = ScheduleJobService.problems(List.of(job(running, 1, 0, 0))).get(0);
        assertTrue(problem.contains("still running"), problem);
    }

    @Test
    void problems_jobThatMatchedNoDeviceIsNotASuccess() {
        String problem = ScheduleJobService.problems(List.of(job(completed, 0, 0, 0))).get(0);
        assertTrue(problem.contains("matched no device"), problem);
    }

    @Test
    void problems_listsEveryUnsuccessfulJob() {
        assertEquals(2, ScheduleJobService.problems(List.of(job(failed, 1, 0, 1), job(cancelled, 1, 0, 0))).size());
    }

    @Test
    void deviceOutcome_showsTheMethodResponse() {
        String record = "{\"deviceId\":\"myDeviceId\",\"jobId\":\"j1\",\"jobType\":\"scheduleDeviceMethod\","
                + "\"status\":\"completed\",\"outcome\":{\"deviceMethodResponse\":{\"status\":200,"
                + "\"payload\":{\"Response\":\"lockDoor called successfully\"}}}}";

        assertEquals("myDeviceId: completed, the device answered 200 {\"Response\":\"lockDoor called successfully\"}",
                ScheduleJobService.deviceOutcome(record));
    }

    @Test
    void deviceOutcome_showsTheError() {
        String record = "{\"deviceId\":\"d2\",\"jobId\":\"j1\",\"status\":\"failed\","
                + "\"error\":{\"code\":\"DeviceNotOnline\",\"description\":\"Timed out waiting for device to connect.\"}}";

        assertEquals("d2: failed, error DeviceNotOnline: Timed out waiting for device to connect.",
                ScheduleJobService.deviceOutcome(record));
    }

    // ---- errors ----

    @Test
    void describe_hubErrorShowsHttpStatusErrorCodeAndMessage() {
        String line = ScheduleJobService.describe(new IotHubException(404001, "Device myDeviceId not found"));

        assertTrue(line.contains("HTTP 404"), line);
        assertTrue(line.contains("error code 404001"), line);
        assertTrue(line.contains("Device myDeviceId not found"), line);
    }

    @Test
    void describe_bareHttpStatusAsErrorCode() {
        assertTrue(ScheduleJobService.describe(new IotHubException(401, "Unauthorized")).contains("HTTP 401,"));
    }
}
