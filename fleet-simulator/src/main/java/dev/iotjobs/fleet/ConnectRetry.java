package dev.iotjobs.fleet;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.security.cert.CertificateException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * How both fleets (MQTT and AMQP) retry a device connection that failed: up to {@link FleetSimulator#MAX_ATTEMPTS}
 * attempts in all, 200 ms × attempts so far between them, never after the fleet closed, and never for an error
 * that retrying cannot mend (a certificate problem, or the hub's refusal of the device).
 */
final class ConnectRetry {
    private ConnectRetry() {
    }

    /**
     * After attempt {@code attempt} failed with {@code error}: the next attempt ({@code connect.apply(attempt + 1)}),
     * counted in {@code retries}, or {@code error} when no retry is due.
     */
    static Future<Void> next(Vertx vertx, Throwable error, int attempt, boolean fleetClosed,
                             Class<? extends Throwable> refusal, AtomicInteger retries, IntFunction<Future<Void>> connect) {
        if (attempt >= FleetSimulator.MAX_ATTEMPTS || fleetClosed || !retryable(error, refusal)) {
            return Future.failedFuture(error);
        }
        retries.incrementAndGet();
        Promise<Void> again = Promise.promise();
        vertx.setTimer(200L * attempt, t -> connect.apply(attempt + 1).onComplete(again));
        return again.future();
    }

    /** False for certificate problems and for {@code refusal} (the protocol's refusal by the hub), anywhere in the causes. */
    static boolean retryable(Throwable error, Class<? extends Throwable> refusal) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof CertificateException || refusal.isInstance(t)) {
                return false;
            }
        }
        return true;
    }
}
