package dev.iotjobs.localhub.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Immutable configuration of a local hub. Build it with {@link #builder()}; defaults are the ports the
 * Azure IoT SDKs dial (443 and 8883) on 127.0.0.1 and the default data directory.
 *
 * @param dataDirectory   where the store and certificates live
 * @param inMemory        keep registry, twins and jobs in memory only (certificates still go to dataDirectory)
 * @param bindHost        address both listeners bind to
 * @param mqttPort        device endpoint (MQTT over TLS); 0 picks a free port
 * @param restPort        service endpoint (HTTPS); 0 picks a free port
 * @param proxyPort       HTTPS CONNECT proxy to the service endpoint, used when restPort cannot be bound
 *                        (or always, when {@code alwaysProxy}); 0 picks a free port
 * @param alwaysProxy     start the proxy even when restPort could be bound
 * @param limits          what one client may cost the hub (buffers, in-flight requests, timeouts)
 * @param twinResponseDelay the least time between a device's twin request ({@code $iothub/twin/GET},
 *                        reported PATCH) and the hub's PUBACK of it, which the answer follows; see
 *                        {@link #DEFAULT_TWIN_RESPONSE_DELAY}
 * @param consolePort     the web console (plain HTTP on 127.0.0.1 only); 0 picks a free port, {@link #CONSOLE_OFF}
 *                        (the default here; the command line's default is {@link #DEFAULT_CONSOLE_PORT}) starts none
 */
public record HubConfig(Path dataDirectory, boolean inMemory, String bindHost, int mqttPort, int restPort,
                        int proxyPort, boolean alwaysProxy, HubLimits limits, Duration twinResponseDelay,
                        int consolePort) {

    public static final int DEFAULT_MQTT_PORT = 8883;
    public static final int DEFAULT_REST_PORT = 443;
    public static final int DEFAULT_PROXY_PORT = 4443;
    public static final int DEFAULT_CONSOLE_PORT = 8080;
    public static final int CONSOLE_OFF = -1;
    /**
     * A real hub PUBACKs and answers a twin request after milliseconds; a PUBACK written in the same instant as
     * the request makes iot-device-client 2.5.0 lose it now and then (see {@code MqttDeviceHandler#answerTwin}).
     * 5 ms avoided every such loss in 1,600 requests at load 10 on 2 cores (0 ms: 18 lost) and is still far below
     * a real hub's latency.
     */
    public static final Duration DEFAULT_TWIN_RESPONSE_DELAY = Duration.ofMillis(5);

    public HubConfig {
        if (twinResponseDelay == null || twinResponseDelay.isNegative()) {
            throw new IllegalArgumentException("twinResponseDelay must be zero or positive: " + twinResponseDelay);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.dataDirectory = dataDirectory;
        b.inMemory = inMemory;
        b.bindHost = bindHost;
        b.mqttPort = mqttPort;
        b.restPort = restPort;
        b.proxyPort = proxyPort;
        b.alwaysProxy = alwaysProxy;
        b.limits = limits;
        b.twinResponseDelay = twinResponseDelay;
        b.consolePort = consolePort;
        return b;
    }

    public static final class Builder {
        private Path dataDirectory;
        private boolean inMemory;
        private String bindHost = WellKnownKeys.HOST_NAME;
        private int mqttPort = DEFAULT_MQTT_PORT;
        private int restPort = DEFAULT_REST_PORT;
        private int proxyPort = DEFAULT_PROXY_PORT;
        private boolean alwaysProxy;
        private HubLimits limits = HubLimits.DEFAULTS;
        private Duration twinResponseDelay = DEFAULT_TWIN_RESPONSE_DELAY;
        private int consolePort = CONSOLE_OFF;

        public Builder dataDirectory(Path value) {
            dataDirectory = value;
            return this;
        }

        public Builder inMemory(boolean value) {
            inMemory = value;
            return this;
        }

        public Builder bindHost(String value) {
            bindHost = value;
            return this;
        }

        public Builder mqttPort(int value) {
            mqttPort = value;
            return this;
        }

        public Builder restPort(int value) {
            restPort = value;
            return this;
        }

        public Builder proxyPort(int value) {
            proxyPort = value;
            return this;
        }

        public Builder alwaysProxy(boolean value) {
            alwaysProxy = value;
            return this;
        }

        public Builder limits(HubLimits value) {
            limits = value;
            return this;
        }

        /** Least delay of a twin request's PUBACK and answer; {@link Duration#ZERO} answers as soon as possible. */
        public Builder twinResponseDelay(Duration value) {
            twinResponseDelay = value;
            return this;
        }

        public Builder consolePort(int value) {
            consolePort = value;
            return this;
        }

        public HubConfig build() {
            return new HubConfig(dataDirectory == null ? DataDirectory.defaultPath() : dataDirectory, inMemory,
                    bindHost, mqttPort, restPort, proxyPort, alwaysProxy,
                    limits == null ? HubLimits.DEFAULTS : limits, twinResponseDelay, consolePort);
        }
    }
}
