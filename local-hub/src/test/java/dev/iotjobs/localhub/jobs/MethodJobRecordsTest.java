package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.DeviceConnections;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.method.MethodService;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.DeviceStore;
import dev.iotjobs.localhub.device.RegistryService;
import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.MemoryHubStore;
import dev.iotjobs.localhub.device.TwinService;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Method-job outcomes linger briefly to share a store commit. Closing the job service right after the
 * last answer must still record them, so the next start does not call those devices again.
 */
class MethodJobRecordsTest {
    private static final int DEVICES = 300;

    @Test
    void answersLingeringAtClose_areRecorded_andNotCalledAgainAfterRestart() throws Exception {
        HubStore store = new MemoryHubStore();
        DeviceRegistry registry = new DeviceRegistry(new DeviceStore(store), Clock.systemUTC());
        for (int start = 0; start < DEVICES; start += 100) {
            ArrayNode batch = Json.NODES.arrayNode();
            for (int i = start; i < start + 100; i++) {
                batch.addObject().put("id", String.format("m-%03d", i)).put("importMode", "create")
                        .putObject("tags").put("site", "m1");
            }
            new RegistryService(registry).bulk(batch);
        }
        AnsweringDevices devices = new AnsweringDevices();
        ObjectNode body = Json.object();
        body.put("type", "scheduleDeviceMethod").put("queryCondition", "tags.site = 'm1'")
                .put("maxExecutionTimeInSeconds", 60);
        body.putObject("cloudToDeviceMethod").put("methodName", "lockDoor").put("responseTimeoutInSeconds", 30);

        JobLimits limits = new JobLimits(10, 2000);
        JobExecutors firstThreads = JobExecutors.start(2);
        JobService first = new JobService(new JobStore(store), registry, new TwinService(registry),
                new MethodService(registry, devices), firstThreads, limits);
        first.create("m-job", body);
        long deadline = System.currentTimeMillis() + 20_000;
        while (devices.calls.get() < DEVICES) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("only " + devices.calls.get() + " devices were called");
            }
            Thread.sleep(1);
        }
        first.close(); // within the linger of the last answers
        firstThreads.close();

        try (JobExecutors threads = JobExecutors.start(2);
             JobService second = new JobService(new JobStore(store), registry, new TwinService(registry),
                     new MethodService(registry, devices), threads, limits)) {
            deadline = System.currentTimeMillis() + 20_000;
            while (!second.get("m-job").get("status").asText().equals("completed")) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("job did not complete: " + second.get("m-job"));
                }
                Thread.sleep(10);
            }
            assertEquals(DEVICES, second.get("m-job").get("deviceJobStatistics").get("succeededCount").asInt());
        }
        assertEquals(DEVICES, devices.calls.get(), "no device may be called twice");
    }

    /** Every device is online and answers at once with 200. */
    private static final class AnsweringDevices implements DeviceConnections {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public boolean isMethodReady(String deviceId) {
            return true;
        }

        @Override
        public CompletableFuture<Void> awaitMethodReady(String deviceId, Duration timeout) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<MethodResponse> sendMethodRequest(String deviceId, String methodName, String payloadJson) {
            calls.incrementAndGet();
            return CompletableFuture.completedFuture(new MethodResponse(200, Json.object().put("Response", "locked")));
        }
    }
}
