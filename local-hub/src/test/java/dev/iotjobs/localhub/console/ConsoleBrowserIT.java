package dev.iotjobs.localhub.console;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.opentest4j.TestAbortedException;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Date;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console in a real browser (headless Chromium through Selenium), against the shared test hub, with real
 * SDK devices and jobs: what the pages show is what the hub did, and what the forms do reaches the devices.
 */
@ExtendWith(LocalHubExtension.class)
class ConsoleBrowserIT {
    private static final Duration SEEN = Duration.ofSeconds(20);
    private static Browser browser;
    private static String console;

    /** Why the tests are skipped (no Chromium), or null. */
    private static String skipped;

    @BeforeAll
    static void start(LocalHub hub) throws Exception {
        try {
            browser = Browser.start();
        } catch (TestAbortedException noBrowser) {
            // Each test is then reported as skipped, so that the build's summary counts them ("Skipped: 7").
            skipped = noBrowser.getMessage();
            return;
        }
        console = hub.startConsole(0);
    }

    @BeforeEach
    void needsTheBrowser() {
        Assumptions.assumeTrue(skipped == null, skipped);
    }

    @AfterAll
    static void stop(LocalHub hub) throws Exception {
        if (console != null) {
            hub.stopConsole();
        }
        if (browser != null) {
            browser.close();
        }
    }

    /** The tutorial's two jobs (lockDoor, then desired building 43 / floor 3) on one device, watched in the pages. */
    @Test
    void tutorialJobs_showProgressTo100_theMethodRecordsStatus200_andDesiredBuilding43(LocalHub hub) throws Exception {
        Device device = register(hub, "console-tutorial");
        String id = device.getDeviceId();
        DeviceClient client = connect(device);
        try {
            client.subscribeToMethods((name, payload, ctx) -> new DirectMethodResponse(200,
                    Map.of("result", "locked " + name)), null);
            client.subscribeToDesiredProperties((twin, ctx) -> { }, null);

            browser.open(console + "#/devices");
            browser.type("query", "SELECT * FROM devices WHERE deviceId = '" + id + "'");
            browser.click("run-query");
            browser.waitUntil(SEEN, () -> browser.textOf("tr[data-device='" + id + "']").contains("Connected"),
                    () -> "the device row, connected");
            browser.screenshot("console-devices");

            // What ScheduleJobService does (schedule-job-service cannot be a dependency of local-hub).
            ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
            String condition = "deviceId IN ['" + id + "']";
            String methodJob = UUID.randomUUID().toString();
            jobs.scheduleDirectMethod(methodJob, condition, "lockDoor", new Date(), DirectMethodsJobOptions.builder()
                    .payload(Map.of("lockTime", "10m")).maxExecutionTimeSeconds(3600)
                    .methodConnectTimeoutSeconds(30).methodResponseTimeoutSeconds(30).build());
            Twin update = new Twin();
            update.getDesiredProperties().putAll(Map.of("building", 43, "floor", 3));
            update.setETag("*");
            String twinJob = UUID.randomUUID().toString();
            jobs.scheduleUpdateTwin(twinJob, condition, update, new Date(), 3600);

            browser.open(console + "#/jobs");
            for (String job : new String[]{methodJob, twinJob}) {
                String row = "tr[data-job='" + job + "']";
                browser.waitUntil(SEEN, () -> browser.textOf(row).contains("100 % (1 of 1)")
                        && browser.textOf(row).contains("completed"), () -> "job " + job + " at 100 %: " + browser.textOf(row));
            }
            browser.screenshot("console-jobs");

            browser.open(console + "#/job/" + methodJob);
            browser.waitUntil(SEEN, () -> browser.text("job-status").equals("completed")
                            && browser.textOf("tr[data-device='" + id + "']").contains("status 200"),
                    () -> "the device's record with status 200");
            assertTrue(browser.text("job-progress").contains("100 %"), browser.text("job-progress"));
            assertTrue(browser.textOf("tr[data-device='" + id + "'] [data-testid='record-status']").contains("completed"));
            browser.screenshot("console-job");

            browser.open(console + "#/device/" + id);
            browser.waitUntil(SEEN, () -> browser.text("desired").contains("\"building\": 43")
                    && browser.text("desired").contains("\"floor\": 3"), () -> "desired building 43");
            browser.waitUntil(SEEN, () -> browser.textOf("[data-testid='device-jobs'] tr[data-job='" + methodJob + "']")
                    .contains("status 200"), () -> "the device's job records");
            browser.screenshot("console-device");
        } finally {
            client.close();
        }
    }

    @Test
    void devicePage_editsDesired_theDeviceReceivesIt_aConcurrentChangeIsAConflict_andInvokesAMethod(LocalHub hub)
            throws Exception {
        Device device = register(hub, "console-edit");
        String id = device.getDeviceId();
        BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> received = new LinkedBlockingQueue<>();
        DeviceClient client = connect(device);
        try {
            client.subscribeToDesiredProperties((twin, ctx) -> received.add(twin), null);
            client.subscribeToMethods((name, payload, ctx) -> new DirectMethodResponse(200,
                    Map.of("called", name, "with", payload.getPayloadAsJsonString())), null);
            browser.open(console + "#/device/" + id);
            browser.waitUntil(SEEN, () -> browser.text("connection").equals("Connected"), () -> "connected");
            browser.waitUntil(SEEN, () -> browser.text("patch-base").contains("etag"), () -> "the edit's etag");

            browser.type("patch", "{\"color\": \"blue\"}");
            browser.click("save-patch");
            browser.waitUntil(SEEN, () -> browser.text("patch-result").startsWith("Saved"), () -> browser.text("patch-result"));
            assertEquals("blue", receivedDesired(received, "color"));
            browser.waitUntil(SEEN, () -> browser.text("desired").contains("\"color\": \"blue\""), () -> "blue in the twin");

            // Someone else changes the twin after this edit started: saving must not overwrite it.
            TwinClient twins = new TwinClient(hub.hubConnectionString());
            Twin twin = twins.get(id);
            twin.getDesiredProperties().put("color", "green");
            twins.patch(twin);
            assertEquals("green", receivedDesired(received, "color"));
            browser.type("patch", "{\"color\": \"red\"}");
            browser.click("save-patch");
            browser.waitUntil(SEEN, () -> browser.text("conflict").startsWith("Conflict"), () -> browser.text("patch-result"));
            assertEquals("green", twins.get(id).getDesiredProperties().get("color"), "the conflicting patch was not written");
            assertNull(received.poll(1, TimeUnit.SECONDS), "the device got no patch from the refused save");

            // Re-based on the current twin, the same patch goes through.
            browser.click("rebase");
            browser.click("save-patch");
            browser.waitUntil(SEEN, () -> browser.text("patch-result").startsWith("Saved"), () -> browser.text("patch-result"));
            assertEquals("red", receivedDesired(received, "color"));

            // Tags, from the same form.
            browser.driver.findElement(By.cssSelector("[data-testid='patch-section'] option[value='tags']")).click();
            browser.type("patch", "{\"floor\": 7}");
            browser.click("save-patch");
            browser.waitUntil(SEEN, () -> browser.text("tags").contains("\"floor\": 7"), () -> browser.text("patch-result"));
            assertEquals(7, ((Number) twins.get(id).getTags().get("floor")).intValue());

            browser.type("method-name", "lockDoor");
            browser.type("method-payload", "{\"lockTime\": \"10m\"}");
            browser.click("invoke");
            browser.waitUntil(SEEN, () -> browser.text("method-status").equals("200"), () -> browser.text("method-result"));
            assertTrue(browser.text("method-payload-result").contains("lockDoor"), browser.text("method-payload-result"));
            assertTrue(browser.text("method-payload-result").contains("10m"), browser.text("method-payload-result"));

            // The page follows the connection state by itself.
            client.close();
            browser.waitUntil(SEEN, () -> browser.text("connection").equals("Disconnected"), () -> browser.text("connection"));
        } finally {
            client.close();
        }
    }

    @Test
    void jobsForm_schedulesAFutureJob_andTheCancelButtonCancelsIt(LocalHub hub) throws Exception {
        String jobId = "console-form-" + UUID.randomUUID().toString().substring(0, 8);
        browser.open(console + "#/jobs");
        browser.type("new-job-id", jobId);
        browser.type("new-condition", "deviceId IN ['nobody-" + jobId + "']");
        browser.type("new-method-name", "lockDoor");
        browser.type("new-payload", "{\"lockTime\": \"1h\"}");
        browser.driver.executeScript("arguments[0].value = arguments[1];", browser.find("new-start"), "2099-01-01T12:00");
        browser.click("schedule");
        browser.waitUntil(SEEN, () -> browser.text("new-result").startsWith("Scheduled"), () -> browser.text("new-result"));

        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
        var job = jobs.get(jobId);
        assertEquals(ScheduledJobStatus.scheduled, job.getJobStatus());
        assertTrue(String.valueOf(job.getCloudToDeviceMethod()).contains("lockDoor"), String.valueOf(job.getCloudToDeviceMethod()));
        assertEquals(2099, job.getStartTime().toInstant().atZone(ZoneId.systemDefault()).getYear());

        String row = "tr[data-job='" + jobId + "']";
        browser.waitUntil(SEEN, () -> browser.textOf(row).contains("scheduled"), () -> browser.textOf(row));
        browser.eventually(SEEN, () -> {
            browser.driver.findElement(By.cssSelector(row + " [data-testid='cancel']")).click();
            return true;
        }, "the Cancel button");
        browser.driver.switchTo().alert().accept();
        browser.waitUntil(SEEN, () -> browser.textOf(row + " [data-testid='job-status']").equals("cancelled"),
                () -> browser.textOf(row));
        assertEquals(ScheduledJobStatus.cancelled, jobs.get(jobId).getJobStatus());

        // A twin-update job from the same form, starting now, changes the selected twin.
        Device device = register(hub, "console-form-twin");
        String twinJob = jobId + "-twin";
        browser.driver.findElement(By.cssSelector("[data-testid='new-type'] option[value='scheduleUpdateTwin']")).click();
        browser.type("new-job-id", twinJob);
        browser.type("new-condition", "deviceId = '" + device.getDeviceId() + "'");
        browser.driver.executeScript("arguments[0].value = '';", browser.find("new-start")); // empty: now
        browser.type("new-twin-patch", "{\"properties\": {\"desired\": {\"building\": 44}}, \"tags\": {\"floor\": 5}}");
        browser.click("schedule");
        browser.waitUntil(SEEN, () -> browser.text("new-result").startsWith("Scheduled " + twinJob), () -> browser.text("new-result"));
        String twinRow = "tr[data-job='" + twinJob + "']";
        browser.waitUntil(SEEN, () -> browser.textOf(twinRow).contains("100 % (1 of 1)"), () -> browser.textOf(twinRow));
        // With the start time left empty ("now") the form sends none, and the hub starts the job when it creates it,
        // as for the Azure CLI: no start time from the browser's clock before the creation time.
        var twinJobResult = jobs.get(twinJob);
        assertEquals(twinJobResult.getCreatedTime(), twinJobResult.getStartTime());
        Twin twin = new TwinClient(hub.hubConnectionString()).get(device.getDeviceId());
        assertEquals(44, ((Number) twin.getDesiredProperties().get("building")).intValue());
        assertEquals(5, ((Number) twin.getTags().get("floor")).intValue());
    }

    /** Paging follows the hub's continuation tokens; a job's records put failures first and filter by status. */
    @Test
    void devicesPaging_andJobRecordsFailuresFirst_andStatusFilter(LocalHub hub) throws Exception {
        String prefix = "console-page-" + UUID.randomUUID().toString().substring(0, 6);
        RegistryClient registry = new RegistryClient(hub.hubConnectionString());
        for (int i = 0; i < 23; i++) {
            registry.addDevice(new Device(String.format("%s-%02d", prefix, i)));
        }
        browser.open(console + "#/devices");
        browser.driver.findElement(By.cssSelector("[data-testid='page-size'] option[value='20']")).click();
        browser.type("query", "SELECT * FROM devices WHERE STARTS_WITH(deviceId, '" + prefix + "')");
        browser.click("run-query");
        browser.waitUntil(SEEN, () -> browser.findAll("[data-testid='devices-table'] tr[data-device]").size() == 20
                && browser.text("page").equals("page 1"), () -> "20 rows on page 1");
        browser.click("next");
        browser.waitUntil(SEEN, () -> browser.findAll("[data-testid='devices-table'] tr[data-device]").size() == 3
                && browser.text("page").equals("page 2"), () -> "3 rows on page 2");
        browser.click("prev");
        browser.waitUntil(SEEN, () -> browser.findAll("[data-testid='devices-table'] tr[data-device]").size() == 20,
                () -> "20 rows again");

        // One connected device answers; the other is offline and fails at once (no connect timeout).
        Device online = registry.getDevice(prefix + "-00");
        String offline = prefix + "-01";
        DeviceClient client = connect(online);
        try {
            client.subscribeToMethods((name, payload, ctx) -> new DirectMethodResponse(200, Map.of("ok", true)), null);
            ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
            String jobId = UUID.randomUUID().toString();
            jobs.scheduleDirectMethod(jobId, "deviceId IN ['" + online.getDeviceId() + "', '" + offline + "']", "lockDoor",
                    new Date(), DirectMethodsJobOptions.builder().methodConnectTimeoutSeconds(0)
                            .methodResponseTimeoutSeconds(10).maxExecutionTimeSeconds(60).build());
            browser.open(console + "#/job/" + jobId);
            browser.waitUntil(SEEN, () -> browser.text("job-progress").contains("100 %")
                    && browser.text("records-phase").equals("Failed devices first")
                    && browser.textOf("tr[data-device='" + offline + "']").contains("failed"), () -> "the failed device first");
            assertTrue(browser.findAll("tr[data-device='" + online.getDeviceId() + "']").isEmpty(), "only failures first");
            browser.click("next");
            browser.waitUntil(SEEN, () -> browser.textOf("tr[data-device='" + online.getDeviceId() + "']").contains("status 200"),
                    () -> "then the others");
            browser.driver.findElement(By.cssSelector("[data-testid='record-filter'] option[value='completed']")).click();
            browser.waitUntil(SEEN, () -> browser.findAll("tr[data-device]").size() == 1
                    && browser.textOf("tr[data-device='" + online.getDeviceId() + "']").contains("completed"), () -> "completed only");
        } finally {
            client.close();
        }
    }

    /**
     * A job whose every device failed: IoT Hub calls it "completed", so the pages show the failures beside that
     * (red, with the count), not a green pill over "100 %"; the type reads the same in the list and on the job's
     * page; times carry their zone; with one (failed) record, "Next" has nowhere to go. An unknown device's page
     * offers no forms, and the hub's 404 for it leaves the "live" dot green (red means the hub does not answer).
     */
    @Test
    void allDevicesFailed_readsAsFailures_andAnUnknownDevicePageHasNoForms(LocalHub hub) throws Exception {
        String id = register(hub, "console-offline").getDeviceId(); // never connects: fails at once
        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
        String jobId = UUID.randomUUID().toString();
        jobs.scheduleDirectMethod(jobId, "deviceId IN ['" + id + "']", "lockDoor", new Date(), DirectMethodsJobOptions.builder()
                .methodConnectTimeoutSeconds(0).methodResponseTimeoutSeconds(10).maxExecutionTimeSeconds(60).build());

        browser.open(console + "#/jobs");
        String row = "tr[data-job='" + jobId + "']";
        browser.waitUntil(SEEN, () -> browser.textOf(row + " [data-testid='job-status']").equals("completed")
                && browser.textOf(row + " [data-testid='job-failures']").equals("1 device failed"), () -> browser.textOf(row));
        assertTrue(browser.textOf(row + " [data-testid='progress-failed']").contains("1 device failed"), browser.textOf(row));
        String pill = browser.driver.findElement(By.cssSelector(row + " [data-testid='job-status']")).getCssValue("background-color");
        assertEquals("rgba(255, 235, 233, 1)", pill, "the failed colour, not the completed green");
        assertEquals("direct method lockDoor (scheduleDeviceMethod)", browser.textOf(row + " [data-testid='job-type']"));
        browser.screenshot("console-jobs-failed");

        browser.open(console + "#/job/" + jobId);
        browser.waitUntil(SEEN, () -> browser.text("job-failures").equals("1 device failed")
                && browser.textOf("tr[data-device='" + id + "']").contains("failed"), () -> "the failed record");
        assertEquals("direct method lockDoor (scheduleDeviceMethod)", browser.text("job-type"));
        assertTrue(browser.text("job-created").matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC([+-]\\d\\d:\\d\\d)?"),
                browser.text("job-created"));
        assertTrue(browser.find("next").getAttribute("disabled") != null, "Next with the job's only record shown");
        browser.screenshot("console-job-failed");

        browser.open(console + "#/device/no-such-device-" + jobId);
        browser.waitUntil(SEEN, () -> browser.text("no-device").startsWith("The hub has no device with this id"),
                () -> browser.text("error"));
        int refreshes = Integer.parseInt(browser.driver.findElement(By.id("live")).getAttribute("data-refreshes"));
        browser.waitUntil(SEEN, () -> Integer.parseInt(browser.driver.findElement(By.id("live")).getAttribute("data-refreshes"))
                >= refreshes + 2, () -> "two more refreshes");
        assertTrue(!browser.driver.findElement(By.id("live")).getAttribute("class").contains("stale"),
                "the hub answered (404): the live dot stays green");
        assertTrue(!browser.find("patch-form").isDisplayed() && !browser.find("method-form").isDisplayed(),
                "no edit or invoke form for a device that does not exist");
        assertTrue(browser.text("error").contains("404") || browser.text("error").toLowerCase().contains("not"), browser.text("error"));
        browser.screenshot("console-unknown-device");
        assertEquals("1 device", browser.driver.executeAsyncScript(
                "import('/ui.js').then(m => arguments[arguments.length - 1](m.plural(1, 'device')))"));
    }

    /** More records than a page: the first page (fetched with TOP) leads to the second and back. */
    @Test
    void jobRecords_pageThroughMoreThan50Devices(LocalHub hub) throws Exception {
        String prefix = "console-many-" + UUID.randomUUID().toString().substring(0, 6);
        RegistryClient registry = new RegistryClient(hub.hubConnectionString());
        for (int i = 0; i < 55; i++) {
            registry.addDevice(new Device(String.format("%s-%02d", prefix, i)));
        }
        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
        String jobId = UUID.randomUUID().toString();
        Twin update = new Twin();
        update.getDesiredProperties().put("building", 45);
        update.setETag("*");
        jobs.scheduleUpdateTwin(jobId, "STARTS_WITH(deviceId, '" + prefix + "')", update, new Date(), 60);
        browser.open(console + "#/job/" + jobId);
        String rows = "[data-testid='job-records'] tr[data-device]";
        browser.waitUntil(SEEN, () -> browser.text("job-progress").contains("100 % (55 of 55)")
                && browser.text("records-phase").equals("No device failed.") && browser.findAll(rows).size() == 50,
                () -> browser.findAll(rows).size() + " rows");
        browser.click("next");
        browser.waitUntil(SEEN, () -> browser.findAll(rows).size() == 5 && browser.text("page").equals("page 2"),
                () -> browser.findAll(rows).size() + " rows on " + browser.text("page"));
        Thread.sleep(1500); // the page refreshes meanwhile: it stays on page 2
        assertEquals(5, browser.findAll(rows).size());
        browser.click("prev");
        browser.waitUntil(SEEN, () -> browser.findAll(rows).size() == 50 && browser.text("page").equals("page 1"),
                () -> browser.findAll(rows).size() + " rows on " + browser.text("page"));
    }

    @Test
    void devicesPage_badQuery_showsTheHubsErrorWithItsPosition() {
        browser.open(console + "#/devices");
        browser.type("query", "SELECT * FROM devices WHERE");
        browser.click("run-query");
        browser.waitUntil(SEEN, () -> browser.text("error-position").contains("position 28"), () -> browser.text("error"));
        assertTrue(browser.text("error").contains("Syntax error at position 28"), browser.text("error"));
        assertTrue(browser.text("error-position").contains("^"), browser.text("error-position"));
        browser.type("query", "SELECT * FROM devices");
        browser.click("run-query");
        browser.waitUntil(SEEN, () -> browser.text("error").isEmpty()
                && browser.textOf("[data-testid='devices-table'] tr[data-device]").length() > 0, () -> "rows again");
    }

    private static Device register(LocalHub hub, String prefix) throws Exception {
        String id = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        return new RegistryClient(hub.hubConnectionString()).addDevice(new Device(id));
    }

    private static DeviceClient connect(Device device) throws Exception {
        DeviceClient client = new DeviceClient("HostName=127.0.0.1;DeviceId=" + device.getDeviceId()
                + ";SharedAccessKey=" + device.getPrimaryKey(), IotHubClientProtocol.MQTT);
        client.open(false);
        return client;
    }

    /** The value of a desired property in the next patch the device receives (the first one is its initial twin). */
    private static Object receivedDesired(BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> received,
                                          String name) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            var twin = received.poll(500, TimeUnit.MILLISECONDS);
            if (twin != null && twin.getDesiredProperties().containsKey(name)) {
                return twin.getDesiredProperties().get(name);
            }
        }
        assertNotNull(null, "the device received no desired patch with " + name + " by " + Instant.now());
        return null;
    }
}
