package dev.iotjobs.localhub.config;

/**
 * What one client of the IoT Hub AMQP endpoint may cost the hub (docs/local-hub.md, "Limits under load and
 * attack"). Every receiving link grants a fixed credit and tops it up only when a delivery is settled, so the
 * unsettled deliveries of a connection are bounded by {@code links x credit}, and their bytes by the message size.
 * The heartbeat (60 s) is that of every AMQP listener of the hub ({@code AmqpServer}); the IoT Hub endpoint accepts
 * frames of up to 16 KB ({@code IotHubAmqpEndpoint}).
 *
 * @param connections           connections the endpoint accepts at once (TLS and WebSocket together); more are
 *                              refused at once with {@code amqp:resource-limit-exceeded} and a log line
 * @param sessionsPerConnection sessions one connection may have open (a multiplexing client opens one per device)
 * @param linksPerConnection    links one connection may have attached
 * @param receiveCredit         credit of a device's or service's sending link (telemetry, twin, methods, C2D send)
 * @param maxMessageBytes       the largest message on a device's or the service's sending link (IoT Hub:
 *                              256 KB device-to-cloud; C2D bodies are limited to 64 KB by the queue)
 * @param cbsCredit             credit of the {@code $cbs} request link
 * @param maxCbsMessageBytes    the largest put-token request
 */
public record AmqpLimits(int connections, int sessionsPerConnection, int linksPerConnection, int receiveCredit,
                         int maxMessageBytes, int cbsCredit, int maxCbsMessageBytes) {

    public static final AmqpLimits DEFAULTS = new AmqpLimits(20_000, 64, 256, 100, 256 * 1024 + 4096, 10, 16 * 1024);

    public AmqpLimits {
        if (connections < 1 || sessionsPerConnection < 1 || linksPerConnection < 1 || receiveCredit < 1
                || maxMessageBytes < 1024 || cbsCredit < 1 || maxCbsMessageBytes < 1024) {
            throw new IllegalArgumentException("AMQP limits must be positive (message sizes at least 1024 bytes)");
        }
    }

    public AmqpLimits withConnections(int value) {
        return new AmqpLimits(value, sessionsPerConnection, linksPerConnection, receiveCredit, maxMessageBytes,
                cbsCredit, maxCbsMessageBytes);
    }

    public AmqpLimits withSessionsPerConnection(int value) {
        return new AmqpLimits(connections, value, linksPerConnection, receiveCredit, maxMessageBytes, cbsCredit,
                maxCbsMessageBytes);
    }

    public AmqpLimits withLinksPerConnection(int value) {
        return new AmqpLimits(connections, sessionsPerConnection, value, receiveCredit, maxMessageBytes, cbsCredit,
                maxCbsMessageBytes);
    }
}
