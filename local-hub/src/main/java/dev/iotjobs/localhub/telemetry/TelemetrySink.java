package dev.iotjobs.localhub.telemetry;

import java.util.concurrent.CompletableFuture;

/**
 * Inbound port for device-to-cloud messages: every transport hands each accepted message here and acknowledges
 * it to the device only when the returned future completes (acknowledged = durable, as for twins).
 */
public interface TelemetrySink {

    /**
     * Appends the message to the hub's telemetry stream. Completes when it is durable, or exceptionally with a
     * {@link dev.iotjobs.localhub.model.HubException} saying why it was refused (then the transport refuses it).
     */
    CompletableFuture<Void> append(TelemetryMessage message);

    /** Accepts and drops every message (a hub without a telemetry stream). */
    TelemetrySink DROP = message -> CompletableFuture.completedFuture(null);
}
