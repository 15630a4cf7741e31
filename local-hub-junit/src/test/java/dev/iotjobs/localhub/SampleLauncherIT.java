package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.DataDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What `mvn exec:java` of a sample says before the app starts, when the local hub cannot be used. (Starting the
 * apps through the launcher against a running hub is tested in the sample modules.)
 */
class SampleLauncherIT {

    @Test
    void noHubEverRan_saysHowToStartOne(@TempDir Path dir) throws Exception {
        String problem = SampleLauncher.applyRunningHubsJvmFlags(dir);
        assertTrue(problem.startsWith("No local hub has run with the data directory " + dir), problem);
        assertTrue(problem.contains("mvn -pl local-hub exec:java"), problem);
    }

    @Test
    void hubStoppedButItsFilesRemain_saysNoHubIsRunningOnItsPort(@TempDir Path dir) throws Exception {
        int freePort;
        try (ServerSocket socket = new ServerSocket(0)) {
            freePort = socket.getLocalPort();
        }
        Files.writeString(DataDirectory.endpointsFile(dir), "mqttPort=" + freePort + "\n");
        Files.writeString(DataDirectory.clientJvmFlagsFile(dir), "-Dlocalhub.test.flag=x\n");

        String problem = SampleLauncher.applyRunningHubsJvmFlags(dir);
        assertTrue(problem.startsWith("No local hub is running on 127.0.0.1:" + freePort), problem);
        assertTrue(System.getProperty("localhub.test.flag") == null, "a stopped hub's options must not be applied");
    }

    @Test
    void targetsLocalHub_onlyForTheLoopbackHost() {
        assertTrue(SampleLauncher.targetsLocalHub("HostName=127.0.0.1;DeviceId=d;SharedAccessKey=k"));
        assertTrue(SampleLauncher.targetsLocalHub("DeviceId=d; hostname = 127.0.0.1 ;SharedAccessKey=k"));
        assertFalse(SampleLauncher.targetsLocalHub("HostName=contoso.azure-devices.net;DeviceId=d;SharedAccessKey=k"));
        assertFalse(SampleLauncher.targetsLocalHub("HostName=127.0.0.1.example.com;DeviceId=d;SharedAccessKey=k"));
    }
}
