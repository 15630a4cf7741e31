package dev.iotjobs.simdevice;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sample modules' exec:java set-up as Maven itself applies it: `-Dexec.mainClass=...` on the command line
 * must run that class (the docs' way to run an app's own main without the launcher), and without it the launcher
 * runs. Maven runs a scratch project that has the module's exec plugin block and properties and one class of its
 * own, so that neither local-hub nor the SDK needs resolving (the real module's exec:java needs local-hub installed).
 */
class ExecMainClassIT {

    @ParameterizedTest
    @ValueSource(strings = {"sim-device", "schedule-job-service"})
    void commandLineMainClassWins_andTheLauncherIsTheDefault(String module, @TempDir Path dir) throws Exception {
        String modulePom = Files.readString(Path.of("..", module, "pom.xml"));
        String parentPom = Files.readString(Path.of("..", "pom.xml"));
        Matcher plugin = Pattern.compile("(?s)<plugin>\\s*<groupId>org\\.codehaus\\.mojo</groupId>\\s*"
                + "<artifactId>exec-maven-plugin</artifactId>.*?</plugin>").matcher(modulePom);
        Matcher version = Pattern.compile("(?s)<artifactId>exec-maven-plugin</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(parentPom);
        Matcher properties = Pattern.compile("(?s)\\n  <properties>(.*?)</properties>").matcher(modulePom);
        assertTrue(plugin.find() && version.find(), "exec plugin block in " + module + "/pom.xml and its version in the parent");
        Files.writeString(dir.resolve("pom.xml"), """
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>scratch</groupId><artifactId>scratch</artifactId><version>1</version>
                  <properties>%s</properties>
                  <build><plugins>%s</plugins></build>
                </project>
                """.formatted(properties.find() ? properties.group(1) : "",
                plugin.group().replace("</artifactId>", "</artifactId><version>" + version.group(1) + "</version>")));
        Path classes = Files.createDirectories(dir.resolve("target/classes"));
        Path source = dir.resolve("OwnMain.java");
        Files.writeString(source, "public class OwnMain { public static void main(String[] a) { System.out.println(\"own main ran\"); } }");
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), source.toString()));

        String own = maven(dir, "-Dexec.mainClass=OwnMain");
        assertTrue(own.contains("own main ran"), "mvn exec:java -Dexec.mainClass=OwnMain ran something else:\n" + own);
        String launcher = maven(dir);
        assertTrue(launcher.contains("dev.iotjobs.localhub.SampleLauncher"), "by default exec:java runs the launcher:\n" + launcher);
    }

    /** Runs mvn exec:java in the scratch project with the outer build's offline mode and local repository. */
    private static String maven(Path dir, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("mvn", "-B", "-q", "-Dstyle.color=never"));
        if ("offline=true".equals(System.getProperty("maven.mode"))) {
            command.add("-o");
        }
        String repository = System.getProperty("maven.repo.local", "");
        if (!repository.isBlank() && !repository.startsWith("$")) {
            command.add("-Dmaven.repo.local=" + repository);
        }
        command.addAll(List.of(options));
        command.add("exec:java");
        Path out = dir.resolve("mvn-" + options.length + ".txt");
        Process mvn = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        assertTrue(mvn.waitFor(120, TimeUnit.SECONDS), "mvn did not end");
        return Files.readString(out, StandardCharsets.UTF_8);
    }
}
