package dev.iotjobs.simdevice;

import com.microsoft.azure.sdk.iot.service.methods.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.SampleLauncher;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.AppProcess;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SimDevice as a user runs it: its own JVM, the unmodified device SDK, a local hub, the back end's calls made
 * with the unmodified service SDK. Every way a first run goes wrong must end within seconds, with exit code 2
 * (bad settings) or 3 (hub unreachable or refusing), one plain sentence, and never the key.
 */
@ExtendWith(LocalHubExtension.class)
class SimDeviceIT {
    private static final Duration FAIL_FAST = Duration.ofSeconds(15);
    private static final String KEY = WellKnownKeys.DEFAULT_DEVICE_PRIMARY_KEY;

    @Test
    void lockDoorAndDesiredProperties_reachTheDevice_andCtrlCClosesPolitely(LocalHub hub) throws Exception {
        String id = newDevice(hub);
        try (AppProcess device = AppProcess.of(SimDevice.class).reaching(hub).start(hub.deviceConnectionString(id))) {
            device.awaitOutput("waiting for commands", Duration.ofSeconds(30));

            DirectMethodsClient methods = new DirectMethodsClient(hub.hubConnectionString());
            DirectMethodResponse lock = methods.invoke(id, "lockDoor");
            assertEquals(200, lock.getStatus());
            assertEquals("{\"Response\":\"lockDoor called successfully\"}", lock.getPayloadAsJsonString());
            device.awaitOutput("Locking Door!", Duration.ofSeconds(5));
            DirectMethodResponse unknown = methods.invoke(id, "openWindow");
            assertEquals(404, unknown.getStatus());
            assertTrue(unknown.getPayloadAsJsonString().contains("openWindow"));

            TwinClient twins = new TwinClient(hub.hubConnectionString());
            Twin twin = twins.get(id);
            twin.getDesiredProperties().put("floor", 3);
            twins.patch(twin);
            device.awaitOutput("{\"floor\":3,\"$version\":2}", Duration.ofSeconds(10));

            device.pressCtrlC();
            assertEquals(130, device.awaitExit(Duration.ofSeconds(15)), device.output());
            assertTrue(device.output().contains("Shutting down IoT Hub Client"), device.output());
        }
    }

    @Test
    void hubRestart_printsTheAppsOwnLinesAndNoSdkStackTraces(LocalHub hub) throws Exception {
        String id = newDevice(hub);
        try (AppProcess device = AppProcess.of(SimDevice.class).reaching(hub).start(hub.deviceConnectionString(id))) {
            device.awaitOutput("waiting for commands", Duration.ofSeconds(30));
            hub.restart();
            device.awaitOutput("Connection status: connection lost", Duration.ofSeconds(20));
            device.awaitOutput("Connection status: reconnected.", Duration.ofSeconds(60));
            assertFalse(device.output().contains("\tat "), "SDK stack traces on the console:\n" + device.output());
            assertFalse(device.output().contains(" WARN "), "SDK warnings on the console:\n" + device.output());
        }
    }

    @Test
    void wrongKey_exits3NamingTheHost(LocalHub hub) throws Exception {
        String wrongKey = "A" + KEY.substring(1);
        assertFailsFast(hub, 3, "HostName=127.0.0.1;DeviceId=myDeviceId;SharedAccessKey=" + wrongKey,
                "The hub 127.0.0.1 refused the device", wrongKey);
    }

    @Test
    void unknownDevice_exits3NamingTheHost(LocalHub hub) throws Exception {
        assertFailsFast(hub, 3, "HostName=127.0.0.1;DeviceId=no-such-device;SharedAccessKey=" + KEY,
                "The hub 127.0.0.1 refused the device", KEY);
    }

    @Test
    void malformedKey_exits2(LocalHub hub) throws Exception {
        // A typo in a key's last character makes it invalid base64 more often than not.
        String typo = KEY.substring(0, KEY.length() - 2) + "l=";
        assertFailsFast(hub, 2, "HostName=127.0.0.1;DeviceId=myDeviceId;SharedAccessKey=" + typo,
                "The device connection string is malformed: its SharedAccessKey is not valid base64 (a typo in its last characters?)", typo);
    }

    @Test
    void wrongHost_exits3NamingTheHost(LocalHub hub) throws Exception {
        assertFailsFast(null, 3, "HostName=no-such-hub.invalid;DeviceId=myDeviceId;SharedAccessKey=" + KEY,
                "Could not connect to the hub no-such-hub.invalid", KEY);
    }

    @Test
    void hubNotRunning_exits3NamingTheHost(LocalHub hub) throws Exception {
        // Nothing listens on 127.0.0.2 (the hub binds 127.0.0.1): what a stopped hub looks like to the device.
        assertFailsFast(null, 3, "HostName=127.0.0.2;DeviceId=myDeviceId;SharedAccessKey=" + KEY,
                "Could not connect to the hub 127.0.0.2", KEY);
    }

    @Test
    void noConnectionString_exits2WithUsage(LocalHub hub) throws Exception {
        assertFailsFast(null, 2, null, "Usage: SimDevice <device connection string>", KEY);
    }

    @Test
    void mavenLauncher_withNoSettings_runsTheLocalHubsDevice_withTheRunningHubsTrust(LocalHub hub) throws Exception {
        // What `mvn -pl sim-device exec:java` does (see the pom): no JVM options of the test, only the data directory.
        try (AppProcess device = AppProcess.of(SampleLauncher.class)
                .jvmOption("-Dlocalhub.sample.main=" + SimDevice.class.getName())
                .jvmOption("-Dlocalhub.sample.variable=IOTHUB_DEVICE_CONNECTION_STRING")
                .jvmOption("-Dlocalhub.sample.connects=device")
                .env("LOCAL_IOTHUB_DATA", hub.config().dataDirectory().toString()).start()) {
            device.awaitOutput("waiting for commands", Duration.ofSeconds(30));
            assertTrue(device.output().contains("development device 'myDeviceId'"), device.output());
        }
    }

    @Test
    void mavenLauncher_withLocalhost_saysToUse127001BeforeTheAppStarts(LocalHub hub) throws Exception {
        // The SDK alone says "did not include a valid IoT Hub name as its prefix", which does not say what to do.
        launcher(hub).assertStops(FAIL_FAST, 2, "HostName=localhost does not reach the local hub: use HostName=127.0.0.1", KEY,
                "HostName=localhost;DeviceId=myDeviceId;SharedAccessKey=" + KEY);
    }

    @Test
    void mavenLauncher_withSourcesNewerThanTheClasses_saysHowToCompileAndRun(LocalHub hub, @TempDir Path dir) throws Exception {
        // What `mvn -pl sim-device exec:java` sees after an edit: exec:java does not compile, so the old app would run.
        Path sources = Files.createDirectories(dir.resolve("sim-device/src/main/java/dev/iotjobs/simdevice"));
        Path edited = Files.writeString(sources.resolve("SimDevice.java"), "// edited");
        Files.setLastModifiedTime(edited, FileTime.from(Instant.now().plus(Duration.ofMinutes(1))));
        launcher(hub).jvmOption("-Dlocalhub.sample.sources=" + dir.resolve("sim-device/src/main"))
                .assertStops(FAIL_FAST, 2, "SimDevice.java changed after the app was last compiled, and exec:java alone runs"
                        + " the compiled (old) app. Compile and run it: mvn -pl sim-device compile exec:java", KEY);
    }

    /** The launcher as the sample's pom configures it for exec:java, reaching the test's hub through its data directory. */
    private static AppProcess.Builder launcher(LocalHub hub) {
        return AppProcess.of(SampleLauncher.class)
                .jvmOption("-Dlocalhub.sample.main=" + SimDevice.class.getName())
                .jvmOption("-Dlocalhub.sample.variable=IOTHUB_DEVICE_CONNECTION_STRING")
                .jvmOption("-Dlocalhub.sample.connects=device")
                .env("LOCAL_IOTHUB_DATA", hub.config().dataDirectory().toString());
    }

    private static void assertFailsFast(LocalHub hub, int exitCode, String connectionString, String message,
                                        String secret) throws Exception {
        AppProcess.Builder app = hub == null ? AppProcess.of(SimDevice.class) : AppProcess.of(SimDevice.class).reaching(hub);
        app.assertStops(FAIL_FAST, exitCode, message, secret, connectionString == null ? new String[0] : new String[]{connectionString});
    }

    private static String newDevice(LocalHub hub) throws Exception {
        String id = "sim-" + UUID.randomUUID();
        new RegistryClient(hub.hubConnectionString()).addDevice(new Device(id));
        return id;
    }
}
