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
 * @param mqttConnections           device connections the MQTT endpoint accepts at once (8883 and MQTT over
 *                                  WebSockets together, counted from the CONNECT); more get CONNACK 3 (server
 *                                  unavailable) and a log line
 * @param httpsConnections          connections the HTTPS port (443: service calls, MQTT and AMQP over WebSockets)
 *                                  holds at once, counted once TLS is up; more are answered 503 (ServerBusy) on
 *                                  their first request and closed
 * @param proxyConnections          tunnels the CONNECT proxy holds at once; more are answered 503 and closed
 * @param proxyConnectTimeout       time a proxy connection may take to send its CONNECT request; then 408 and close
 * @param consoleConnections        browser connections the web console holds at once; more are answered 503
 * @param eventHubsConnections      connections the Event Hubs-compatible endpoint holds at once; more are refused
 *                                  with {@code amqp:resource-limit-exceeded}
 */
public record HubLimits(int mqttOutboundBytes, int mqttTwinRequestsInFlight, Duration mqttConnectTimeout, Duration httpHeadersTimeout, Duration httpBodyTimeout, int mqttConnections, int httpsConnections, int proxyConnections, Duration proxyConnectTimeout, int consoleConnections, int eventHubsConnections) {

    /**
     * Connection caps sized for tens of thousands of devices on one machine (each open TLS connection costs some
     * tens of KB); the console and the Event Hubs endpoint serve a few local tools.
     */
    public static final HubLimits DEFAULTS = new HubLimits(1024 * 1024, 16, Duration.ofSeconds(10),
            Duration.ofSeconds(20), Duration.ofSeconds(30), 100_000, 100_000, 100_000, Duration.ofSeconds(20), 256, 1024);

    public HubLimits {
        if (mqttOutboundBytes < 1024 || mqttTwinRequestsInFlight < 1) {
            throw new IllegalArgumentException("mqttOutboundBytes must be >= 1024 and mqttTwinRequestsInFlight >= 1");
        }
        if (mqttConnectTimeout.toSeconds() < 1 || httpHeadersTimeout.toMillis() < 1 || httpBodyTimeout.toMillis() < 1
                || proxyConnectTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("timeouts must be positive (the MQTT CONNECT timeout at least 1 s)");
        }
        if (mqttConnections < 1 || httpsConnections < 1 || proxyConnections < 1 || consoleConnections < 1
                || eventHubsConnections < 1) {
            throw new IllegalArgumentException("connection caps must be at least 1");
        }
    }

    public HubLimits withMqttOutboundBytes(int value) {
        return new HubLimits(value, mqttTwinRequestsInFlight, mqttConnectTimeout, httpHeadersTimeout, httpBodyTimeout, mqttConnections, httpsConnections, proxyConnections, proxyConnectTimeout, consoleConnections, eventHubsConnections);
    }

    public HubLimits withMqttTwinRequestsInFlight(int value) {
        return new HubLimits(mqttOutboundBytes, value, mqttConnectTimeout, httpHeadersTimeout, httpBodyTimeout, mqttConnections, httpsConnections, proxyConnections, proxyConnectTimeout, consoleConnections, eventHubsConnections);
    }

    public HubLimits withMqttConnectTimeout(Duration value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, value, httpHeadersTimeout, httpBodyTimeout, mqttConnections, httpsConnections, proxyConnections, proxyConnectTimeout, consoleConnections, eventHubsConnections);
    }

    public HubLimits withHttpHeadersTimeout(Duration value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, mqttConnectTimeout, value, httpBodyTimeout, mqttConnections, httpsConnections, proxyConnections, proxyConnectTimeout, consoleConnections, eventHubsConnections);
    }

    public HubLimits withHttpBodyTimeout(Duration value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, mqttConnectTimeout, httpHeadersTimeout, value, mqttConnections, httpsConnections, proxyConnections, proxyConnectTimeout, consoleConnections, eventHubsConnections);
    }

    public HubLimits withMqttConnections(int value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, mqttConnectTimeout, httpHeadersTimeout, httpBodyTimeout, value, httpsConnections, proxyConnections, proxyConnectTimeout, consoleConnections, eventHubsConnections);
    }

    public HubLimits withHttpsConnections(int value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, mqttConnectTimeout, httpHeadersTimeout, httpBodyTimeout, mqttConnections, value, proxyConnections, proxyConnectTimeout, consoleConnections, eventHubsConnections);
    }

    public HubLimits withProxyConnections(int value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, mqttConnectTimeout, httpHeadersTimeout, httpBodyTimeout, mqttConnections, httpsConnections, value, proxyConnectTimeout, consoleConnections, eventHubsConnections);
    }

    public HubLimits withProxyConnectTimeout(Duration value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, mqttConnectTimeout, httpHeadersTimeout, httpBodyTimeout, mqttConnections, httpsConnections, proxyConnections, value, consoleConnections, eventHubsConnections);
    }

    public HubLimits withConsoleConnections(int value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, mqttConnectTimeout, httpHeadersTimeout, httpBodyTimeout, mqttConnections, httpsConnections, proxyConnections, proxyConnectTimeout, value, eventHubsConnections);
    }

    public HubLimits withEventHubsConnections(int value) {
        return new HubLimits(mqttOutboundBytes, mqttTwinRequestsInFlight, mqttConnectTimeout, httpHeadersTimeout, httpBodyTimeout, mqttConnections, httpsConnections, proxyConnections, proxyConnectTimeout, consoleConnections, value);
    }
}
