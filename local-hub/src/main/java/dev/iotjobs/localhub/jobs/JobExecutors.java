package dev.iotjobs.localhub.jobs;

import dev.iotjobs.localhub.concurrent.Threads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The threads jobs run on, created and closed by whoever wires the hub (so every pool of the hub is sized
 * in one place): one timer thread (start times, time limits, record linger) and a fixed pool of workers
 * (selection, batches, method pumps, record commits). No thread ever waits for a device.
 */
public final class JobExecutors implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobExecutors.class);
    final ScheduledExecutorService timers;
    final ExecutorService workers;

    private JobExecutors(int workerThreads) {
        timers = Executors.newSingleThreadScheduledExecutor(Threads.daemons("local-hub-job-timers"));
        workers = Executors.newFixedThreadPool(workerThreads, Threads.daemons("local-hub-job-worker"));
    }

    public static JobExecutors start(int workerThreads) {
        return new JobExecutors(Math.max(1, workerThreads));
    }

    /** Stops the timers at once and lets the workers finish what they run (up to 10 s). */
    @Override
    public void close() {
        timers.shutdownNow();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("Job workers did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
