package dev.iotjobs.localhub.config;

import dev.iotjobs.localhub.c2d.C2dSettings;
import dev.iotjobs.localhub.telemetry.TelemetryOptions;
import dev.iotjobs.localhub.throttle.Tier;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * Immutable configuration of a local hub: every knob it has, in one place. Build it with {@link #builder()};
 * defaults are the ports the Azure IoT SDKs dial (443 and 8883) on 127.0.0.1, the default data directory,
 * and limits sized for the machine.
 *
 * @param dataDirectory     where the store and certificates live
 * @param inMemory          keep registry, twins and jobs in memory only (certificates still go to dataDirectory)
 * @param bindHost          address both listeners bind to
 * @param mqttPort          device endpoint (MQTT over TLS); 0 picks a free port
 * @param restPort          service endpoint (HTTPS); 0 picks a free port
 * @param proxyPort         HTTPS CONNECT proxy to the service endpoint, used when restPort cannot be bound
 *                          (or always, when {@code alwaysProxy}); 0 picks a free port
 * @param alwaysProxy       start the proxy even when restPort could be bound
 * @param limits            what one client may cost the hub (buffers, in-flight requests, timeouts)
 * @param twinResponseDelay the least time between a device's twin request ({@code $iothub/twin/GET},
 *                          reported PATCH) and the hub's PUBACK of it, which the answer follows; see
 *                          {@link #DEFAULT_TWIN_RESPONSE_DELAY}
 * @param tlsEngine         {@link TlsEngine#AUTO} (BoringSSL where it loads, else the JDK's) or {@link TlsEngine#JDK}
 * @param maxActiveJobs     concurrent (non-terminal) jobs, as on an S3 IoT hub; more get 429004
 * @param methodsInFlight   direct-method invocations one method job keeps in flight at most
 * @param eventLoops        Vert.x event loops serving MQTT and HTTPS (one per core by default)
 * @param coreWorkerThreads threads running core calls of the adapters (store commits wait there, not on a loop)
 * @param jobWorkerThreads  threads running job work (selection, batches, method pumps, record commits)
 * @param consolePort       the web console (plain HTTP on 127.0.0.1 only); 0 picks a free port, {@link #CONSOLE_OFF}
 *                          (the default here; the command line's default is {@link #DEFAULT_CONSOLE_PORT}) starts none
 * @param eventHubsPort     the Event Hubs-compatible endpoint (plain AMQP, as Event Hubs clients expect with
 *                          {@code UseDevelopmentEmulator=true}); 0 (the default here; the command line's default is
 *                          {@link #DEFAULT_EVENT_HUBS_PORT}) picks a free port
 * @param telemetry         the telemetry log's partitions and retention (the built-in endpoint's)
 * @param c2d               cloud-to-device queue knobs (IoT Hub's defaults: 50 messages, 1 hour time to live, ...)
 * @param sessionResumeGrace how long a device that resumes a persistent session has to subscribe again to methods
 *                          and desired properties before they go out on its remembered subscriptions
 *                          ({@link #DEFAULT_SESSION_RESUME_GRACE}; see {@code EdgeSession})
 * @param tier              the IoT Hub tier whose quotas and throttles to apply, or null (the default) for none
 * @param units             the tier's unit count (1 by default)
 * @param throttleBacklog   with a tier: how long an over-limit operation may wait for its turn (traffic shaping) before
 *                          it is refused ({@link #DEFAULT_THROTTLE_BACKLOG}; null: the default)
 * @param amqpPort          device and service endpoint, AMQP over TLS (the SDKs always dial 5671); 0 picks a free port.
 *                          Unless set, it is 5671, or a free port when {@code mqttPort} is 0 (a hub on free ports
 *                          beside another one)
 * @param amqpLimits        what one AMQP client may cost the hub (frames, sessions, links, credit, message size)
 */
public record HubConfig(Path dataDirectory, boolean inMemory, String bindHost, int mqttPort, int restPort,
                        int proxyPort, boolean alwaysProxy, HubLimits limits, Duration twinResponseDelay,
                        TlsEngine tlsEngine, int maxActiveJobs, int methodsInFlight, int eventLoops,
                        int coreWorkerThreads, int jobWorkerThreads, int consolePort, int eventHubsPort,
                        TelemetryOptions telemetry, C2dSettings c2d, Duration sessionResumeGrace, int amqpPort,
                        AmqpLimits amqpLimits, Tier tier, int units, Duration throttleBacklog) {
    /**
     * Device SDKs subscribe to methods within milliseconds of connecting when the application asks for them; one
     * that reconnects after a drop does not subscribe again. Two seconds tells the two apart on a loaded machine.
     */
    public static final Duration DEFAULT_SESSION_RESUME_GRACE = Duration.ofSeconds(2);

    public static final int DEFAULT_MQTT_PORT = 8883;
    public static final int DEFAULT_REST_PORT = 443;
    public static final int DEFAULT_PROXY_PORT = 4443;
    public static final int DEFAULT_CONSOLE_PORT = 8080;
    /** AMQP without TLS: the port Event Hubs clients dial with {@code UseDevelopmentEmulator=true}. */
    public static final int DEFAULT_EVENT_HUBS_PORT = 5672;
    public static final int DEFAULT_AMQP_PORT = 5671;
    public static final int CONSOLE_OFF = -1;
    /**
     * A real hub PUBACKs and answers a twin request after milliseconds; a PUBACK written in the same instant as
     * the request makes iot-device-client 2.5.0 lose it now and then (see {@code MqttDeviceHandler#answerTwin}).
     * 5 ms avoided every such loss in 1,600 requests at load 10 on 2 cores (0 ms: 18 lost) and is still far below
     * a real hub's latency.
     */
    public static final Duration DEFAULT_TWIN_RESPONSE_DELAY = Duration.ofMillis(5);
    public static final int DEFAULT_MAX_ACTIVE_JOBS = 10;
    /** Measured best on two cores (docs/benchmarks.md); fewer leaves the loops idle, more only queues. */
    public static final int DEFAULT_METHODS_IN_FLIGHT = 2000;

    /** Which TLS implementation the listeners use. */
    public enum TlsEngine {
        /** BoringSSL (netty-tcnative) where its native library loads, else the JDK's. */
        AUTO,
        /** Always the JDK's (for comparison or troubleshooting). */
        JDK;

        public static TlsEngine parse(String text) {
            try {
                return valueOf(text.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("TLS engine must be auto or jdk, not '" + text + "'");
            }
        }
    }

    /** How long an over-limit operation may wait in the traffic-shaping backlog before it is refused. */
    public static final Duration DEFAULT_THROTTLE_BACKLOG = Duration.ofSeconds(10);

    public HubConfig {
        if (throttleBacklog == null) {
            throttleBacklog = DEFAULT_THROTTLE_BACKLOG;
        } else if (throttleBacklog.isNegative()) {
            throw new IllegalArgumentException("throttleBacklog must be zero or positive: " + throttleBacklog);
        }
        if (twinResponseDelay == null || twinResponseDelay.isNegative()) {
            throw new IllegalArgumentException("twinResponseDelay must be zero or positive: " + twinResponseDelay);
        }
        if (maxActiveJobs < 1 || methodsInFlight < 1 || eventLoops < 1 || coreWorkerThreads < 1 || jobWorkerThreads < 1) {
            throw new IllegalArgumentException("job limits and thread counts must be at least 1");
        }
        if (tier != null) {
            tier.checkUnits(units);
        } else if (units != 1) {
            throw new IllegalArgumentException("units need a tier (--tier F1|S1|S2|S3)");
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
        b.tlsEngine = tlsEngine;
        b.maxActiveJobs = maxActiveJobs;
        b.methodsInFlight = methodsInFlight;
        b.eventLoops = eventLoops;
        b.coreWorkerThreads = coreWorkerThreads;
        b.jobWorkerThreads = jobWorkerThreads;
        b.consolePort = consolePort;
        b.eventHubsPort = eventHubsPort;
        b.telemetry = telemetry;
        b.c2d = c2d;
        b.sessionResumeGrace = sessionResumeGrace;
        b.tier = tier;
        b.units = units;
        b.throttleBacklog = throttleBacklog;
        b.amqpPort = amqpPort;
        b.amqpLimits = amqpLimits;
        return b;
    }

    public static final class Builder {
        private static final int CORES = Math.max(1, Runtime.getRuntime().availableProcessors());
        private Path dataDirectory;
        private boolean inMemory;
        private String bindHost = WellKnownKeys.HOST_NAME;
        private int mqttPort = DEFAULT_MQTT_PORT;
        private int restPort = DEFAULT_REST_PORT;
        private int proxyPort = DEFAULT_PROXY_PORT;
        private boolean alwaysProxy;
        private HubLimits limits = HubLimits.DEFAULTS;
        private Duration twinResponseDelay = DEFAULT_TWIN_RESPONSE_DELAY;
        private C2dSettings c2d = C2dSettings.DEFAULTS;
        private Duration sessionResumeGrace = DEFAULT_SESSION_RESUME_GRACE;
        private TlsEngine tlsEngine = TlsEngine.AUTO;
        private int maxActiveJobs = DEFAULT_MAX_ACTIVE_JOBS;
        private int methodsInFlight = DEFAULT_METHODS_IN_FLIGHT;
        private int eventLoops = CORES;
        /** Core calls mostly wait for a group commit: many may wait at once, so more threads than cores. */
        private int coreWorkerThreads = 16;
        private int jobWorkerThreads = Math.max(2, CORES);
        private int consolePort = CONSOLE_OFF;
        private Tier tier;
        private int units = 1;
        private Duration throttleBacklog;
        /** Any free port here (Event Hubs clients dial the port their connection string names); the command line's default is {@link #DEFAULT_EVENT_HUBS_PORT}. */
        private int eventHubsPort = 0;
        private TelemetryOptions telemetry = TelemetryOptions.DEFAULTS;
        /** Null: 5671, or a free port when mqttPort is 0. */
        private Integer amqpPort;
        private AmqpLimits amqpLimits = AmqpLimits.DEFAULTS;

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

        public Builder tlsEngine(TlsEngine value) {
            tlsEngine = value;
            return this;
        }

        public Builder maxActiveJobs(int value) {
            maxActiveJobs = value;
            return this;
        }

        public Builder methodsInFlight(int value) {
            methodsInFlight = value;
            return this;
        }

        public Builder eventLoops(int value) {
            eventLoops = value;
            return this;
        }

        public Builder coreWorkerThreads(int value) {
            coreWorkerThreads = value;
            return this;
        }

        public Builder jobWorkerThreads(int value) {
            jobWorkerThreads = value;
            return this;
        }

        public Builder consolePort(int value) {
            consolePort = value;
            return this;
        }

        public Builder c2d(C2dSettings value) {
            c2d = value;
            return this;
        }

        public Builder sessionResumeGrace(Duration value) {
            sessionResumeGrace = value;
            return this;
        }

        /** Applies an IoT Hub tier's quotas and throttles (null: none, the default). */
        public Builder tier(Tier value) {
            tier = value;
            return this;
        }

        public Builder units(int value) {
            units = value;
            return this;
        }

        /** With a tier: how long an over-limit operation may wait before it is refused (default 10 s). */
        public Builder throttleBacklog(Duration value) {
            throttleBacklog = value;
            return this;
        }

        public Builder eventHubsPort(int value) {
            eventHubsPort = value;
            return this;
        }

        public Builder telemetry(TelemetryOptions value) {
            telemetry = value;
            return this;
        }

        public Builder amqpPort(int value) {
            amqpPort = value;
            return this;
        }

        public Builder amqpLimits(AmqpLimits value) {
            amqpLimits = value;
            return this;
        }

        public HubConfig build() {
            return new HubConfig(dataDirectory == null ? DataDirectory.defaultPath() : dataDirectory, inMemory,
                    bindHost, mqttPort, restPort, proxyPort, alwaysProxy, limits == null ? HubLimits.DEFAULTS : limits,
                    twinResponseDelay, tlsEngine, maxActiveJobs, methodsInFlight, eventLoops, coreWorkerThreads, jobWorkerThreads,
                    consolePort, eventHubsPort, telemetry == null ? TelemetryOptions.DEFAULTS : telemetry,
                    c2d, sessionResumeGrace, amqpPort != null ? amqpPort : mqttPort == 0 ? 0 : DEFAULT_AMQP_PORT,
                    amqpLimits == null ? AmqpLimits.DEFAULTS : amqpLimits, tier, units, throttleBacklog);
        }
    }
}
