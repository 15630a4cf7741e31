package dev.iotjobs.rollout;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubTooManyRequestsException;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A staged rollout with IoT Hub jobs: a desired-property change (by default {@code firmwareVersion}) or a direct
 * method goes out to the devices a query selects in waves, by ring tag: {@code tags.ring = 'canary'} first,
 * then the next rings, then every other device. After each wave the app reads what every device did, and it
 * aborts (no further wave, the running job cancelled) when a wave's failure rate exceeds a threshold.
 * <pre>
 *   StagedRollout "HostName=...;SharedAccessKeyName=...;SharedAccessKey=..."   (or IOTHUB_CONNECTION_STRING)</pre>
 * Settings are environment variables, see {@link Settings#read}. The policy needs Registry Read and Write and
 * Service Connect. Exit code: 0 when every wave succeeded, 1 when the rollout was aborted, 2 for bad settings,
 * 3 when the hub cannot be reached or refuses a request.
 * <p>
 * Why rings and not "10 % of the fleet": IoT Hub's query language cannot pick a fraction of devices (no random
 * sample, hash or modulo of the device id), so a fraction would have to be a list of device ids in the job's
 * condition, which is limited in length. A ring is one short condition whatever the fleet's size, and it is a
 * decision people make once (which devices are canaries) instead of a new random draw per rollout.
 */
public final class StagedRollout {
    static final int COMPLETE = 0, ABORTED = 1, BAD_SETTINGS = 2, HUB_ERROR = 3;
    static final Set<ScheduledJobStatus> ENDED = EnumSet.of(ScheduledJobStatus.completed, ScheduledJobStatus.failed,
            ScheduledJobStatus.cancelled);

    /** Every setting, read once from the environment (the connection string may also be the first argument). */
    record Settings(String connectionString, String host, String condition, List<String> rings, String property,
                    String version, String method, double maxFailureRate, int minDevices, int confirmSeconds,
                    int maxDevicesPerMinute, long pollMillis) {
        static Settings read(String[] args) {
            String connectionString = args.length > 0 ? args[0].trim() : env("IOTHUB_CONNECTION_STRING", "");
            if (connectionString.isEmpty()) {
                throw new IllegalArgumentException("no hub connection string (argument or IOTHUB_CONNECTION_STRING)");
            }
            return new Settings(connectionString, part(connectionString, "HostName"),
                    env("ROLLOUT_CONDITION", "*"),                                   // which devices at all
                    Arrays.asList(env("ROLLOUT_RINGS", "canary,early").split("\\s*,\\s*")), // waves before "the rest"
                    env("ROLLOUT_PROPERTY", "firmwareVersion"),                      // the desired property to set ...
                    env("ROLLOUT_VERSION", "2.0.0"),                                 // ... to this value
                    env("ROLLOUT_METHOD", ""),                                       // or: call this method instead
                    number("ROLLOUT_MAX_FAILURE_PERCENT", 10, 0, 100) / 100.0,       // abort above this failure rate
                    (int) number("ROLLOUT_MIN_DEVICES", 10, 1, 1_000_000),          // ... once this many have finished
                    (int) number("ROLLOUT_CONFIRM_SECONDS", 60, 1, 3600),            // wait for reported confirmations
                    (int) number("ROLLOUT_MAX_DEVICES_PER_MINUTE", 0, 0, 1_000_000), // 0: as fast as the hub allows
                    (long) number("POLL_INTERVAL_SECONDS", 2, 1, 3600) * 1000);
        }

        boolean twinChange() {
            return method.isEmpty();
        }

        static String env(String variable, String fallback) {
            String value = System.getenv(variable);
            return value == null || value.isBlank() ? fallback : value.trim();
        }

        static double number(String variable, double fallback, double min, double max) {
            double value = Double.parseDouble(env(variable, String.valueOf(fallback)));
            if (value < min || value > max) {
                throw new IllegalArgumentException(variable + " must be between " + min + " and " + max + ", not " + value);
            }
            return value;
        }
    }

    /** One wave: a name and the job condition that selects its devices. */
    record Wave(String name, String condition) {
    }

    /** What a wave's devices did. Failed: the job failed on them, or their answer or confirmation was missing or bad. */
    record Outcome(int devices, int succeeded, int failed, boolean cancelled) {
        double failureRate() {
            return succeeded + failed == 0 ? 0 : (double) failed / (succeeded + failed);
        }
    }

    public static void main(String[] args) throws InterruptedException {
        Settings settings;
        try {
            settings = Settings.read(args);
        } catch (IllegalArgumentException e) {     // includes a number that is not one
            System.out.println("Bad settings: " + e.getMessage() + ". Usage: StagedRollout <hub connection string>,"
                    + " settings in ROLLOUT_* environment variables (see the class comment or docs/rollout.md)");
            System.exit(BAD_SETTINGS);
            return;
        }
        System.exit(run(settings));
    }

    static int run(Settings s) throws InterruptedException {
        try {
            ScheduledJobsClient jobs = new ScheduledJobsClient(s.connectionString());
            QueryClient queries = new QueryClient(s.connectionString());
            System.out.println("Rolling out " + (s.twinChange() ? "properties.desired." + s.property() + " = " + s.version()
                    : "direct method " + s.method()) + " to devices where " + s.condition() + ", aborting above "
                    + Math.round(s.maxFailureRate() * 100) + " % failures (after " + s.minDevices() + " devices)");
            List<String> summary = new ArrayList<>();
            for (Wave wave : waves(s)) {                                                        // step 1
                int devices = count(queries, wave.condition());                                 // step 2
                if (devices == 0) {
                    summary.add(String.format("  %-8s no device", wave.name()));
                    continue;
                }
                long started = System.currentTimeMillis();
                System.out.printf("%nWave %s: %d device(s) where %s%n", wave.name(), devices, wave.condition());
                String jobId = startJob(jobs, s, wave);                                          // step 3
                Outcome outcome = follow(jobs, s, wave, jobId, devices);                         // step 4
                if (!outcome.cancelled()) {
                    outcome = readOutcomes(queries, s, wave, jobId, outcome);                    // step 5
                }
                summary.add(String.format("  %-8s %d device(s): %d succeeded, %d failed (%.0f %%)%s", wave.name(),
                        outcome.devices(), outcome.succeeded(), outcome.failed(), outcome.failureRate() * 100,
                        outcome.cancelled() ? ", job cancelled" : ""));
                if (tooManyFailures(s, outcome)) {                                               // step 6
                    System.out.printf("%nABORTED in wave %s: %.0f %% of its devices failed (threshold %.0f %%); no further wave.%n",
                            wave.name(), outcome.failureRate() * 100, s.maxFailureRate() * 100);
                    printSummary(summary);
                    return ABORTED;
                }
                pace(s, devices, started);                                                       // step 7
            }
            System.out.printf("%nRollout complete: every wave stayed within %.0f %% failures.%n", s.maxFailureRate() * 100);
            printSummary(summary);
            return COMPLETE;
        } catch (IllegalArgumentException e) {       // the SDK's checks of the connection string and its key
            System.out.println("The hub connection string is malformed: " + e.getMessage().replaceAll(
                    "(?i)(SharedAccessKey)\\s*=[^;]*", "$1=<hidden>"));
            return BAD_SETTINGS;
        } catch (IotHubUnauthorizedException e) {
            System.out.println("The hub " + s.host() + " refused the credentials: check the policy name and key.");
            return HUB_ERROR;
        } catch (IotHubException e) {                // throttling (429xxx) and the daily quota (403002) included
            System.out.println("The hub " + s.host() + " refused a request: IoT Hub error " + e.getErrorCode() + " ("
                    + e.getErrorCodeDescription() + "): " + e.getMessage());
            return HUB_ERROR;
        } catch (IOException e) {
            System.out.println("Could not reach the hub " + s.host() + ": " + e.getMessage() + ". Is it running?");
            return HUB_ERROR;
        }
    }

    // Step 1: one wave per ring, then everyone left. "Everyone left" has no ring tag or another ring's.
    static List<Wave> waves(Settings s) {
        String base = s.condition().equals("*") ? "" : "(" + s.condition() + ") AND ";
        List<Wave> waves = new ArrayList<>();
        List<String> quoted = new ArrayList<>();
        for (String ring : s.rings()) {
            waves.add(new Wave(ring, base + "tags.ring = " + quote(ring)));
            quoted.add(quote(ring));
        }
        waves.add(new Wave("rest", base + "(NOT IS_DEFINED(tags.ring) OR tags.ring NIN [" + String.join(", ", quoted) + "])"));
        return waves;
    }

    // Step 2: how many devices the wave's condition selects now (the job selects the same ones when it starts).
    static int count(QueryClient queries, String condition) throws IOException, IotHubException {
        RawQueryResponse rows = queries.queryRaw("SELECT COUNT() AS n FROM devices WHERE " + condition);
        return rows.hasNext() ? JsonParser.parseString(rows.next()).getAsJsonObject().get("n").getAsInt() : 0;
    }

    // Step 3: the wave's job. A hub runs only so many jobs at once (Free and S1: one) and refuses more with
    // 429004; this app runs one at a time, but another app's job may be running: wait 2, 4, ... 32 s and retry.
    static String startJob(ScheduledJobsClient jobs, Settings s, Wave wave)
            throws IOException, IotHubException, InterruptedException {
        String jobId = "rollout-" + wave.name() + "-" + UUID.randomUUID();
        for (int waitSeconds = 2; ; waitSeconds *= 2) {
            try {
                if (s.twinChange()) {
                    Twin patch = new Twin();
                    patch.getDesiredProperties().put(s.property(), s.version());
                    patch.setETag("*");
                    jobs.scheduleUpdateTwin(jobId, wave.condition(), patch, new Date(), 3600);
                } else {
                    jobs.scheduleDirectMethod(jobId, wave.condition(), s.method(), new Date(), DirectMethodsJobOptions
                            .builder().payload(Map.of("version", s.version())).methodConnectTimeoutSeconds(10)
                            .methodResponseTimeoutSeconds(30).maxExecutionTimeSeconds(3600).build());
                }
                System.out.println("  job " + jobId + " started");
                return jobId;
            } catch (IotHubTooManyRequestsException e) {
                if (e.getErrorCode() != 429004 || waitSeconds > 32) {
                    throw e;
                }
                System.out.println("  the hub runs no more jobs at once (429004): retrying in " + waitSeconds + " s");
                Thread.sleep(waitSeconds * 1000L);
            }
        }
    }

    // Step 4: follow the job; cancel it as soon as its failures cross the threshold (after the minimum).
    static Outcome follow(ScheduledJobsClient jobs, Settings s, Wave wave, String jobId, int devices)
            throws IOException, IotHubException, InterruptedException {
        long start = System.currentTimeMillis();
        while (true) {
            ScheduledJob job = jobs.get(jobId);
            JobStatistics st = job.getJobStatistics();
            int succeeded = st == null ? 0 : st.getSucceededCount();
            int failed = st == null ? 0 : st.getFailedCount();
            long elapsed = System.currentTimeMillis() - start;
            String pace = elapsed < 1000 ? "" : String.format(" (%.0f devices/min)", (succeeded + failed) * 60_000.0 / elapsed);
            System.out.printf("  %s: %d of %d done, %d failed%s%n", job.getJobStatus(), succeeded + failed, devices, failed, pace);
            Outcome outcome = new Outcome(devices, succeeded, failed, false);
            if (ENDED.contains(job.getJobStatus())) {
                return outcome;
            }
            if (tooManyFailures(s, outcome)) {
                jobs.cancel(jobId);
                System.out.println("  too many failures: job " + jobId + " cancelled");
                return new Outcome(devices, succeeded, failed, true);
            }
            Thread.sleep(s.pollMillis());
        }
    }

    // Step 5: what each device did, from its devices.jobs record: a method must have answered 2xx; a twin change
    // counts once the device reports the new value back (within ROLLOUT_CONFIRM_SECONDS).
    static Outcome readOutcomes(QueryClient queries, Settings s, Wave wave, String jobId, Outcome fromJob)
            throws IOException, IotHubException, InterruptedException {
        int failed = 0;
        RawQueryResponse rows = queries.queryRaw("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = " + quote(jobId));
        while (rows.hasNext()) {
            JsonObject row = JsonParser.parseString(rows.next()).getAsJsonObject();
            JsonElement outcome = row.has("outcome") ? row.getAsJsonObject("outcome").get("deviceMethodResponse") : null;
            boolean answered = outcome != null && outcome.isJsonObject() && outcome.getAsJsonObject().get("status").getAsInt() / 100 == 2;
            if (!"completed".equals(row.get("status").getAsString()) || !s.twinChange() && !answered) {
                failed++;
                if (failed <= 5) {
                    System.out.println("  failed: " + row.get("deviceId").getAsString() + " " + row.get("status").getAsString()
                            + (row.has("error") ? " " + row.get("error") : "") + (outcome == null ? "" : " " + outcome));
                }
            }
        }
        if (s.twinChange()) {
            String confirmed = wave.condition() + " AND properties.reported." + s.property() + " = " + quote(s.version());
            long deadline = System.currentTimeMillis() + s.confirmSeconds() * 1000L;
            int reported = count(queries, confirmed);
            while (reported < fromJob.devices() - failed && System.currentTimeMillis() < deadline) {
                Thread.sleep(s.pollMillis());
                reported = count(queries, confirmed);
            }
            System.out.printf("  %d of %d device(s) report %s = %s%n", reported, fromJob.devices(), s.property(), s.version());
            if (reported < fromJob.devices()) {
                String reportedValue = "properties.reported." + s.property();
                RawQueryResponse silent = queries.queryRaw("SELECT deviceId FROM devices WHERE " + wave.condition()
                        + " AND (NOT IS_DEFINED(" + reportedValue + ") OR " + reportedValue + " != " + quote(s.version()) + ")");
                for (int shown = 0; shown < 5 && silent.hasNext(); shown++) {
                    System.out.println("  not confirmed: " + JsonParser.parseString(silent.next()).getAsJsonObject()
                            .get("deviceId").getAsString());
                }
            }
            failed = Math.max(failed, fromJob.devices() - reported);
        }
        return new Outcome(fromJob.devices(), fromJob.devices() - failed, failed, false);
    }

    static boolean tooManyFailures(Settings s, Outcome o) {
        return o.succeeded() + o.failed() >= s.minDevices() && o.failureRate() > s.maxFailureRate();
    }

    // Step 7: at most ROLLOUT_MAX_DEVICES_PER_MINUTE on average: wait before the next wave if this one was faster.
    static void pace(Settings s, int devices, long startedMillis) throws InterruptedException {
        if (s.maxDevicesPerMinute() > 0) {
            long wait = devices * 60_000L / s.maxDevicesPerMinute() - (System.currentTimeMillis() - startedMillis);
            if (wait > 0) {
                System.out.printf("  pacing: next wave in %.0f s (at most %d devices/min)%n", wait / 1000.0, s.maxDevicesPerMinute());
                Thread.sleep(wait);
            }
        }
    }

    static void printSummary(List<String> summary) {
        System.out.println("Summary:");
        summary.forEach(System.out::println);
    }

    static String quote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** One part of a connection string, e.g. part(s, "HostName"); empty when it is missing. */
    static String part(String connectionString, String name) {
        Matcher part = Pattern.compile("(?i)(?:^|;)\\s*" + name + "\\s*=([^;]*)").matcher(connectionString);
        return part.find() ? part.group(1).trim() : "";
    }
}
