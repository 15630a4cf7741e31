package dev.iotjobs.localhub;

import dev.iotjobs.localhub.concurrent.Futures;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * One step of a hub's start-up that runs on a thread of its own while the caller does another (most of a cold
 * start is class loading and key derivation, which spread over the cores). The thread is a daemon: a step whose
 * caller gave up never holds the JVM.
 */
final class StartupStep<T> {
    private final FutureTask<T> task;

    private StartupStep(Callable<T> work) {
        task = new FutureTask<>(work);
    }

    /** Starts {@code work} on a new thread called {@code name}. */
    static <T> StartupStep<T> start(String name, Callable<T> work) {
        StartupStep<T> step = new StartupStep<>(work);
        Thread thread = new Thread(step.task, name);
        thread.setDaemon(true);
        thread.start();
        return step;
    }

    /** Waits for the step; its failure is rethrown as it was thrown (checked ones wrapped). */
    T await() {
        try {
            return task.get();
        } catch (ExecutionException e) {
            throw Futures.rethrowable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while the hub was starting", e);
        }
    }

    /** Waits for the step after another one failed: its result, or null when it failed too. */
    T awaitQuietly() {
        try {
            return await();
        } catch (RuntimeException e) {
            return null;
        }
    }
}
