package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.twin.GetTwinCorrelatingMessageCallback;
import com.microsoft.azure.sdk.iot.device.twin.Twin;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.HubConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Not part of the build's tests (the name matches no include): measures which of the five callbacks of
 * iot-device-client 2.5.0's {@code getTwinAsync(GetTwinCorrelatingMessageCallback, ...)} (queued, sent, request
 * acknowledged, response received, response acknowledged) never come, and how often the response is acknowledged
 * before it is reported received (what gives the SDK end-to-end test {@code testCorrelatingMessageCallbackOverloads}
 * its null twin), for several twin response delays of the hub, with the test's CPU busy. Run inside a private
 * network namespace (the SDK dials 8883 and 443):
 * {@code mvn -pl local-hub test -Dtest=TwinCallbackMeasurement -Dsurefire.failIfNoSpecifiedTests=false
 * [-Dtwincb.delaysMs=0,5,50] [-Dtwincb.devices=8] [-Dtwincb.requests=150] [-Dtwincb.burners=2]}
 */
class TwinCallbackMeasurement {
    private static final String[] NAMES = {"queued", "sent", "requestAcknowledged", "responseReceived", "responseAcknowledged"};

    @Test
    void measure() throws Exception {
        int devices = Integer.getInteger("twincb.devices", 8);
        int requests = Integer.getInteger("twincb.requests", 150);
        int burners = Integer.getInteger("twincb.burners", 2);
        var dir = Files.createTempDirectory("twincb");
        boolean trusted = false;
        for (String d : System.getProperty("twincb.delaysMs", "0,5,50").split(",")) {
            Duration delay = Duration.ofMillis(Long.parseLong(d.trim()));
            try (LocalHub hub = LocalHub.start(HubConfig.builder().dataDirectory(dir).inMemory(true)
                    .twinResponseDelay(delay).build())) {
                if (!trusted) {
                    hub.configureThisJvm();
                    trusted = true;
                }
                System.out.println("delay " + delay.toMillis() + " ms: " + run(hub, devices, requests, burners));
            }
        }
    }

    private static String run(LocalHub hub, int deviceCount, int requests, int burners) throws Exception {
        RegistryClient registry = new RegistryClient(hub.hubConnectionString());
        List<DeviceClient> clients = new ArrayList<>();
        for (int i = 0; i < deviceCount; i++) {
            Device d = registry.addDevice(new Device(TestDevices.uniqueId("twincb")));
            DeviceClient c = new DeviceClient(TestDevices.connectionString(d), IotHubClientProtocol.MQTT);
            c.open(false);
            c.subscribeToDesiredProperties((t, ctx) -> { }, null);
            clients.add(c);
        }
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> burn = new ArrayList<>();
        for (int i = 0; i < burners; i++) {
            Thread t = new Thread(() -> {
                long x = 0;
                while (!stop.get()) {
                    x += System.nanoTime() % 7;
                }
                if (x == 42) {
                    System.out.print("");
                }
            });
            t.setDaemon(true);
            t.start();
            burn.add(t);
        }
        Map<String, Integer> missing = new ConcurrentHashMap<>();
        Map<String, Integer> orders = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(deviceCount);
        try {
            List<java.util.concurrent.Future<?>> work = new ArrayList<>();
            for (DeviceClient c : clients) {
                work.add(pool.submit(() -> {
                    for (int r = 0; r < requests; r++) {
                        List<String> seen = new CopyOnWriteArrayList<>();
                        CountDownLatch all = new CountDownLatch(5);
                        c.getTwinAsync(new GetTwinCorrelatingMessageCallback() {
                            @Override
                            public void onRequestQueued(Message m, Object ctx) {
                                seen.add("queued");
                                all.countDown();
                            }

                            @Override
                            public void onRequestSent(Message m, Object ctx) {
                                seen.add("sent");
                                all.countDown();
                            }

                            @Override
                            public void onRequestAcknowledged(Message m, Object ctx, IotHubClientException e) {
                                seen.add("requestAcknowledged");
                                all.countDown();
                            }

                            @Override
                            public void onResponseReceived(Twin twin, Message m, Object ctx, IotHubStatusCode s,
                                                           IotHubClientException e) {
                                seen.add("responseReceived");
                                all.countDown();
                            }

                            @Override
                            public void onResponseAcknowledged(Message m, Object ctx) {
                                seen.add("responseAcknowledged");
                                all.countDown();
                            }
                        }, null);
                        try {
                            all.await(10, TimeUnit.SECONDS);
                            Thread.sleep(20); // late callbacks
                        } catch (InterruptedException e) {
                            return;
                        }
                        for (String n : NAMES) {
                            if (!seen.contains(n)) {
                                missing.merge(n, 1, Integer::sum);
                            }
                        }
                        orders.merge(String.join(">", seen), 1, Integer::sum);
                    }
                }));
            }
            for (var w : work) {
                w.get(30, TimeUnit.MINUTES);
            }
        } finally {
            stop.set(true);
            pool.shutdownNow();
            for (DeviceClient c : clients) {
                c.close();
            }
        }
        return (deviceCount * requests) + " requests; missing " + new TreeMap<>(missing) + "; orders " + new TreeMap<>(orders);
    }
}
