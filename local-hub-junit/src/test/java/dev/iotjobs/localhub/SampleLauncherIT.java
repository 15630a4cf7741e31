package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.DataDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
    void staleClasses_onlyWhenAJavaSourceIsNewerThanTheMainClass(@TempDir Path dir) throws Exception {
        Path classes = Files.createDirectories(dir.resolve("target/classes/app"));
        Path compiled = Files.writeString(classes.resolve("Main.class"), "");
        Path sources = Files.createDirectories(dir.resolve("app-module/src/main"));
        Path java = Files.writeString(Files.createDirectories(sources.resolve("java/app")).resolve("Main.java"), "");
        Path resource = Files.writeString(Files.createDirectories(sources.resolve("resources")).resolve("x.properties"), "");
        java.net.URLClassLoader loader = new java.net.URLClassLoader(new java.net.URL[]{dir.resolve("target/classes").toUri().toURL()}, null);
        FileTime compileTime = FileTime.from(Instant.now());
        Files.setLastModifiedTime(compiled, compileTime);
        Files.setLastModifiedTime(java, FileTime.from(compileTime.toInstant().minusSeconds(60)));
        Files.setLastModifiedTime(resource, FileTime.from(compileTime.toInstant().plusSeconds(60))); // copied, not compiled
        assertNull(SampleLauncher.staleClasses(sources, loader, "app.Main"));
        Files.setLastModifiedTime(java, FileTime.from(compileTime.toInstant().plusSeconds(60)));
        String stale = SampleLauncher.staleClasses(sources, loader, "app.Main");
        assertTrue(stale.startsWith("Main.java changed after the app was last compiled"), stale);
        assertTrue(stale.endsWith("mvn -pl app-module compile exec:java"), stale);
    }

    @Test
    void localhost_isRecognised_127001IsNot() {
        assertEquals("localhost", SampleLauncher.hostName("HostName=localhost;DeviceId=d;SharedAccessKey=k"));
        assertTrue(SampleLauncher.isLocalhost("LocalHost"));
        assertFalse(SampleLauncher.isLocalhost("127.0.0.1"));
        assertFalse(SampleLauncher.isLocalhost("contoso.azure-devices.net"));
    }

    @Test
    void targetsLocalHub_onlyForTheLoopbackHost() {
        assertTrue(SampleLauncher.targetsLocalHub("HostName=127.0.0.1;DeviceId=d;SharedAccessKey=k"));
        assertTrue(SampleLauncher.targetsLocalHub("DeviceId=d; hostname = 127.0.0.1 ;SharedAccessKey=k"));
        assertFalse(SampleLauncher.targetsLocalHub("HostName=contoso.azure-devices.net;DeviceId=d;SharedAccessKey=k"));
        assertFalse(SampleLauncher.targetsLocalHub("HostName=127.0.0.1.example.com;DeviceId=d;SharedAccessKey=k"));
    }
}
