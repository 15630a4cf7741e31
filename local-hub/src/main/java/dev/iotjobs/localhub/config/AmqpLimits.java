package dev.iotjobs.localhub.config;

/**
 * What one client of the IoT Hub AMQP endpoint may cost the hub (docs/local-hub.md, "Limits under load and
 * attack"). Every receiving link grants a fixed credit and tops it up only when a delivery is settled, so the
 * unsettled deliveries of a connection are bounded by {@code links x credit}, and their bytes by the message size.
 *
 * @param connections           connections the endpoint accepts at once (TLS and WebSocket together); more are
 *                              closed at once with a log line
 * @param maxFrameBytes         the largest AMQP frame the hub accepts (advertised in its Open)
 * @param sessionsPerConnection sessions one connection may have open (a multiplexing client opens one per device)
 * @param linksPerConnection    links one connection may have attached
 * @param receiveCredit         credit of a device's or service's sending link (telemetry, twin, methods, C2D send)
 * @param maxMessageBytes       the largest message on a device's telemetry link or on the service's C2D link
 *                              (IoT Hub: 256 KB device-to-cloud; C2D bodies are limited to 64 KB by the queue)
 * @param cbsCredit             credit of the {@code $cbs} request link
 * @param maxCbsMessageBytes    the largest put-token request
 * @param heartbeatMillis       the idle time-out the hub advertises (half of its own): clients send empty frames
 *                              at least this often; a connection silent for twice as long is closed
 */
public record AmqpLimits(int connections, int maxFrameBytes, int sessionsPerConnection, int linksPerConnection,
                         int receiveCredit, int maxMessageBytes, int cbsCredit, int maxCbsMessageBytes,
                         int heartbeatMillis) {

    public static final AmqpLimits DEFAULTS = new AmqpLimits(20_000, 65_536, 64, 256, 100, 256 * 1024 + 4096, 10,
            16 * 1024, 60_000);

    public AmqpLimits {
        if (connections < 1 || maxFrameBytes < 4096 || sessionsPerConnection < 1 || linksPerConnection < 1
                || receiveCredit < 1 || maxMessageBytes < 1024 || cbsCredit < 1 || maxCbsMessageBytes < 1024
                || heartbeatMillis < 1000) {
            throw new IllegalArgumentException("AMQP limits must be positive (frames at least 4096 bytes, "
                    + "messages at least 1024 bytes, heartbeat at least 1 s)");
        }
    }

    public AmqpLimits withConnections(int value) {
        return new AmqpLimits(value, maxFrameBytes, sessionsPerConnection, linksPerConnection, receiveCredit,
                maxMessageBytes, cbsCredit, maxCbsMessageBytes, heartbeatMillis);
    }
}
