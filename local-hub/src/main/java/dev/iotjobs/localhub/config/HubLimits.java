package dev.iotjobs.localhub.config;

import java.time.Duration;

/**
 * What one client may cost the hub at most: memory held per device connection and how long a connection may
 * hold the hub's resources without making progress. docs/local-hub.md ("Limits under load and attack")
 * states the defaults and what happens when a client reaches each limit.
 *
 * @param mqttOutboundBytes         bytes of answers, notifications and method requests queued for one device
 *                                  connection and not yet taken by its socket; a device that lets more pile
 *                                  up (it does not read) is disconnected
 * @param mqttTwinRequestsInFlight  twin requests (GET, reported PATCH) of one connection being processed at
 *                                  once; more are answered 429 (429001), as IoT Hub throttles twin operations
 * @param mqttConnectTimeout        time from the TCP connection to the MQTT CONNECT packet
 * @param httpHeadersTimeout        time a service connection may take to send a request's headers, counted from
 *                                  the connection (after TLS) or the end of the previous response; an idle
 *                                  keep-alive connection is closed after it too
 * @param httpBodyTimeout           time from a request's headers to the end of its body; then 408 and close
 */
public record HubLimits(int mqttOutboundBytes, int mqttTwinRequestsInFlight, Duration mqttConnectTimeout,
                        Duration httpHeadersTimeout, Duration httpBodyTimeout) {

    public static final HubLimits DEFAULTS = new HubLimits(1024 * 1024, 16, Duration.ofSeconds(10),
            Duration.ofSeconds(20), Duration.ofSeconds(30));

    public HubLimits {
        if (mqttOutboundBytes < 1024 || mqttTwinRequestsInFlight < 1) {
            throw new IllegalArgumentException("mqttOutboundBytes must be >= 1024 and mqttTwinRequestsInFlight >= 1");
        }
        if (mqttConnectTimeout.toSeconds() < 1 || httpHeadersTimeout.toMillis() < 1 || httpBodyTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("timeouts must be positive (the MQTT CONNECT timeout at least 1 s)");
        }
    }

    public HubLimits withMqttOutboundBytes(int value) {
        return new HubLimits(value, mqttTwinRequestsInFlight, mqttConnectTimeout, httpHeadersTimeout, httpBodyTimeout);
    }

    public HubLimits withMqttTwinRequestsInFlight(int value) {
        return new HubLimits(mqttOutboundBytes, value, mqttConnectTimeout, httpHeadersTimeout, httpBodyTimeout);
    }

    public HubLimits withMqttConnectTimeout(Duration value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, value, httpHeadersTimeout, httpBodyTimeout);
    }

    public HubLimits withHttpHeadersTimeout(Duration value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, mqttConnectTimeout, value, httpBodyTimeout);
    }

    public HubLimits withHttpBodyTimeout(Duration value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, mqttConnectTimeout, httpHeadersTimeout, value);
    }
}
