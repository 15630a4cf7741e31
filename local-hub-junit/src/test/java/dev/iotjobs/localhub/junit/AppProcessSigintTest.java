package dev.iotjobs.localhub.junit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** What {@link AppProcess#pressCtrlC} checks first: whether the process would ever see the Ctrl-C. */
@EnabledOnOs(OS.LINUX)
class AppProcessSigintTest {
    @Test
    void aProcessStartedIgnoringSigint_isRecognised_andAnOrdinaryOneIsNot() throws Exception {
        // "trap '' INT" makes the shell ignore SIGINT, and exec hands that on, as nohup does to Maven's JVMs.
        Process ignoring = new ProcessBuilder("sh", "-c", "trap '' INT; exec sleep 30").start();
        // A child inherits what this JVM ignores (a shell cannot undo an ignored-on-entry signal either).
        Process ordinary = new ProcessBuilder("sleep", "30").start();
        try {
            // The shell applies the trap before exec: wait until the pid is sleep's, then read its mask.
            waitUntilExeced(ignoring);
            assertTrue(AppProcess.ignoresSigint(ignoring.pid()), "SIGINT ignored via trap");
            // Unless this build itself runs with SIGINT ignored, a plain child has it at its default.
            assumeFalse(AppProcess.ignoresSigint(ProcessHandle.current().pid()), "this build ignores SIGINT");
            assertFalse(AppProcess.ignoresSigint(ordinary.pid()), "SIGINT at its default");
        } finally {
            ignoring.destroyForcibly();
            ordinary.destroyForcibly();
        }
        ignoring.waitFor(5, TimeUnit.SECONDS);
        assertFalse(AppProcess.ignoresSigint(ignoring.pid()), "an ended process tells nothing");
    }

    private static void waitUntilExeced(Process p) throws Exception {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!p.info().command().orElse("").endsWith("sleep")) {
            assertTrue(System.nanoTime() < giveUp, "the shell did not exec sleep");
            Thread.sleep(10);
        }
    }
}
