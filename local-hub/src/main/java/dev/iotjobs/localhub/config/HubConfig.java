package dev.iotjobs.localhub.config;

import java.nio.file.Path;

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
 * @param consolePort     the web console (plain HTTP on 127.0.0.1 only); 0 picks a free port, {@link #CONSOLE_OFF}
 *                        (the default here; the command line's default is {@link #DEFAULT_CONSOLE_PORT}) starts none
 */
public record HubConfig(Path dataDirectory, boolean inMemory, String bindHost, int mqttPort, int restPort,
                        int proxyPort, boolean alwaysProxy, HubLimits limits, int consolePort) {

    public static final int DEFAULT_MQTT_PORT = 8883;
    public static final int DEFAULT_REST_PORT = 443;
    public static final int DEFAULT_PROXY_PORT = 4443;
    public static final int DEFAULT_CONSOLE_PORT = 8080;
    public static final int CONSOLE_OFF = -1;

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

        public Builder consolePort(int value) {
            consolePort = value;
            return this;
        }

        public HubConfig build() {
            return new HubConfig(dataDirectory == null ? DataDirectory.defaultPath() : dataDirectory, inMemory,
                    bindHost, mqttPort, restPort, proxyPort, alwaysProxy,
                    limits == null ? HubLimits.DEFAULTS : limits, consolePort);
        }
    }
}
