package dev.iotjobs.localhub;

import dev.iotjobs.localhub.amqp.iothub.IotHubAmqpEndpoint;
import dev.iotjobs.localhub.auth.DeviceAuthenticator;
import dev.iotjobs.localhub.auth.ModuleAuthenticator;
import dev.iotjobs.localhub.auth.ServiceAuthenticator;
import dev.iotjobs.localhub.auth.SharedAccessPolicy;
import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.concurrent.ConnectionCap;
import dev.iotjobs.localhub.eventhubs.EventHubsEndpoint;
import dev.iotjobs.localhub.telemetry.TelemetryLog;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.DeviceStore;
import dev.iotjobs.localhub.device.ModuleService;
import dev.iotjobs.localhub.device.RegistryService;
import dev.iotjobs.localhub.device.TwinService;
import dev.iotjobs.localhub.jobs.JobExecutors;
import dev.iotjobs.localhub.jobs.JobLimits;
import dev.iotjobs.localhub.throttle.HubThrottles;
import dev.iotjobs.localhub.jobs.JobService;
import dev.iotjobs.localhub.jobs.JobStore;
import dev.iotjobs.localhub.method.MethodService;
import dev.iotjobs.localhub.method.ModuleMethodService;
import dev.iotjobs.localhub.mqtt.MqttDeviceHandler;
import dev.iotjobs.localhub.c2d.C2dQueues;
import dev.iotjobs.localhub.edge.DeviceEdge;
import dev.iotjobs.localhub.query.QueryService;
import dev.iotjobs.localhub.rest.HttpDeadlines;
import dev.iotjobs.localhub.rest.RestApi;
import dev.iotjobs.localhub.rest.RestSupport;
import dev.iotjobs.localhub.session.SessionStore;
import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.MemoryHubStore;
import dev.iotjobs.localhub.store.MvHubStore;
import dev.iotjobs.localhub.store.StoreFormat;
import dev.iotjobs.localhub.tls.DevCertificateAuthority;
import dev.iotjobs.localhub.tls.DeviceCertificates;
import dev.iotjobs.localhub.tls.VertxTlsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Comparator;

/**
 * A local Azure IoT Hub, embeddable: {@code try (LocalHub hub = LocalHub.start(config)) { ... }}.
 * This is the only class that wires the modules together: store, core services, and the MQTT and REST
 * adapters around them.
 */
public final class LocalHub implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LocalHub.class);
    /** The built-in endpoint's event hub name: IoT Hub uses the hub's name; this hub's is {@value}. */
    public static final String EVENT_HUB_NAME = "local-hub";
    private HubConfig config;
    private final Clock clock = Clock.systemUTC();
    private Vertx vertx;
    private HubStore store;
    private DevCertificateAuthority certificates;
    private DeviceRegistry registry;
    private DeviceEdge edge;
    private C2dQueues c2d;
    private ModuleService modules;
    private JobService jobs;
    private JobExecutors jobExecutors;
    private HttpDeadlines deadlines;
    private Listeners listeners;
    private HubThrottles throttles = HubThrottles.none();
    private int mqttPort;
    private int amqpPort;
    private int restPort;
    private int proxyPort = -1;
    private String restBindProblem;
    /** The telemetry stream (built-in endpoint) and its Event Hubs-compatible endpoint. */
    private TelemetryLog telemetry;
    private Path telemetryTempDirectory;
    private EventHubsEndpoint eventHubs;

    private LocalHub(HubConfig config) {
        this.config = config;
    }

    /** Starts a hub and returns once both endpoints listen. */
    public static LocalHub start(HubConfig config) {
        LocalHub hub = new LocalHub(config);
        hub.startUp();
        return hub;
    }

    private void startUp() {
        StartupTrace trace = new StartupTrace();
        // Three independent parts of the start run at once: the TLS material (PKCS#12 key derivation, or key
        // generation on a first start), Vert.x with the TLS engine (BoringSSL's native library), and here the
        // store with the core services. Each is mostly class loading, which spreads over the cores.
        StartupStep<DevCertificateAuthority> tls = StartupStep.start("local-hub-start-certificates", () -> {
            DevCertificateAuthority authority = DevCertificateAuthority.loadOrCreate(config.dataDirectory());
            trace.mark("certificates");
            return authority;
        });
        StartupStep<Vertx> vertxStep = StartupStep.start("local-hub-start-vertx", () -> {
            Vertx created = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(config.eventLoops())
                    .setBlockedThreadCheckInterval(2000));
            trace.mark("vertx");
            VertxTlsOptions.engine(config.tlsEngine()); // loads and checks BoringSSL now, off the main thread
            trace.mark("TLS engine");
            return created;
        });
        DeviceRegistry moduleRegistry;
        TwinService twins;
        TwinService moduleTwins;
        MethodService methods;
        ModuleMethodService moduleMethods;
        try {
            store = config.inMemory() ? new MemoryHubStore() : MvHubStore.open(DataDirectory.storeFile(config.dataDirectory()));
            StoreFormat.check(store, config.dataDirectory());
            trace.mark("store");
            telemetry = openTelemetry();
            registry = new DeviceRegistry(new DeviceStore(store), clock);
            registry.ensureDevice(WellKnownKeys.DEFAULT_DEVICE_ID, "638000000000000000",
                    WellKnownKeys.DEFAULT_DEVICE_PRIMARY_KEY, WellKnownKeys.DEFAULT_DEVICE_SECONDARY_KEY);
            twins = new TwinService(registry);
            // Modules: their own registry and twins; the device edge serves devices and modules alike.
            moduleRegistry = new DeviceRegistry(DeviceStore.modules(store), clock);
            moduleTwins = new TwinService(moduleRegistry);
            modules = new ModuleService(registry, moduleRegistry, moduleTwins);
            c2d = new C2dQueues(store, registry, clock, config.c2d());
            certificates = tls.await(); // the device edge checks X.509 devices against the development CA
            // Tier emulation (off without --tier): one set of throttles, asked by the device edge, the REST adapter
            // and the jobs.
            throttles = config.tier() == null ? HubThrottles.none()
                    : HubThrottles.of(config.tier(), config.units(), clock, config.throttleBacklog().toMillis());
            edge = new DeviceEdge(new DeviceAuthenticator(registry, clock, certificates.caCertificate()),
                    new ModuleAuthenticator(registry, moduleRegistry, clock, certificates.caCertificate()), registry, moduleRegistry, twins,
                    moduleTwins, c2d, telemetry, new SessionStore(store), clock,
                    new DeviceEdge.Settings(config.sessionResumeGrace(), config.limits().mqttTwinRequestsInFlight()),
                    throttles);
            methods = new MethodService(registry, edge);
            twins.onDesiredChanged(edge);
            moduleTwins.onDesiredChanged(edge);
            registry.onRemovedOrDisabled(modules::deviceRemovedOrDisabled);
            modules.deleteOrphans(); // after the edge's listeners: an orphan's stored session goes with it
            moduleMethods = new ModuleMethodService(registry, new MethodService(moduleRegistry, edge));
            trace.mark("core");
            vertx = vertxStep.await();
            trace.mark("waiting for the other steps");
        } catch (RuntimeException | Error e) {
            // Nothing of a failed start stays open: the other steps are waited for and what they made closed.
            vertx = vertxStep.awaitQuietly();
            tls.awaitQuietly();
            stop();
            throw e;
        }
        vertx.exceptionHandler(LocalHub::unhandled);
        WorkerExecutor workers = vertx.createSharedWorkerExecutor("local-hub-core", config.coreWorkerThreads());
        MqttDeviceHandler mqtt = new MqttDeviceHandler(vertx, workers, edge, config.limits(), config.twinResponseDelay());
        ServiceAuthenticator serviceAuthenticator = new ServiceAuthenticator(WellKnownKeys.HOST_NAME,
                SharedAccessPolicy.defaults(), clock);
        RestSupport rest = new RestSupport(serviceAuthenticator, workers);
        IotHubAmqpEndpoint amqp = new IotHubAmqpEndpoint(vertx, workers, edge, c2d,
                new DeviceAuthenticator(registry, clock, certificates.caCertificate()),
                new ModuleAuthenticator(registry, moduleRegistry, clock, certificates.caCertificate()), serviceAuthenticator, config.amqpLimits(), clock);
        jobExecutors = JobExecutors.start(config.jobWorkerThreads());
        jobs = new JobService(new JobStore(store), registry, twins, methods, jobExecutors,
                new JobLimits(throttles.maxActiveJobs(config.maxActiveJobs()), config.methodsInFlight(),
                        throttles.jobDeviceOperations()));
        QueryService queries = new QueryService(
                registry::twinDocuments,
                moduleRegistry::twinDocuments,
                jobs::deviceJobRows);
        deadlines = new HttpDeadlines(vertx, config.limits().httpHeadersTimeout(), config.limits().httpBodyTimeout(),
                new ConnectionCap("HTTPS (443)", "HubLimits.httpsConnections", config.limits().httpsConnections()));
        var router = RestApi.router(vertx, rest, throttles,
                RestApi.queries(rest, queries),
                RestApi.devices(rest, new RegistryService(registry, twins, modules)),
                RestApi.cloudToDevice(rest, c2d),
                RestApi.telemetry(rest, new dev.iotjobs.localhub.telemetry.RecentTelemetry(telemetry, clock)),
                RestApi.twins(rest, twins, methods),
                RestApi.modules(rest, modules, moduleMethods),
                RestApi.jobs(rest, jobs));
        router.route().order(-1).handler(deadlines::onRequest);
        trace.mark("services and routes");

        try {
            listeners = new Listeners(vertx, config, certificates, throttles);
            listeners.bind(mqtt, amqp, router, deadlines);
            mqttPort = listeners.mqttPort();
            amqpPort = listeners.amqpPort();
            restPort = listeners.restPort();
            proxyPort = listeners.proxyPort();
            restBindProblem = listeners.restBindProblem();
            trace.mark("listeners");
            listeners.bindOrExplain("Event Hubs-compatible endpoint, AMQP", "--event-hubs-port", config.eventHubsPort(), () -> {
                eventHubs = Listeners.await(EventHubsEndpoint.start(vertx, config.bindHost(), config.eventHubsPort(), telemetry,
                        EVENT_HUB_NAME, config.telemetry().consumerGroups(), SharedAccessPolicy.defaults(), clock,
                        new ConnectionCap("Event Hubs-compatible (AMQP)", "HubLimits.eventHubsConnections",
                                config.limits().eventHubsConnections())));
                return eventHubs.port();
            });
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
        writeEndpointsFile();
        trace.mark("proxy and files");
        if (config.consolePort() != HubConfig.CONSOLE_OFF) {
            listeners.startConsoleOrExplain(config.consolePort()); // the hub serves the SDKs without its console
            trace.mark("console");
        }
        LOG.debug("Start-up: {}", trace.summary());
    }

    /**
     * Starts the web console on 127.0.0.1:{@code port} (0: any free port) unless it runs, and returns its URL.
     * It acts on this hub through the REST API with the iothubowner policy (docs/console.md).
     */
    public synchronized String startConsole(int port) {
        return listeners.startConsole(port);
    }

    public synchronized void stopConsole() {
        listeners.stopConsole();
    }

    /** The console's URL, or null when it does not run. */
    public synchronized String consoleUrl() {
        return listeners == null ? null : listeners.consoleUrl();
    }

    /** Why the configured console could not start, or null. */
    public String consoleProblem() {
        return listeners == null ? null : listeners.consoleProblem();
    }

    /**
     * Tells tools on this machine how to reach the hub (the samples' Maven launcher and run-tutorial.sh read
     * these files): its ports and well-known connection strings, and the JVM options of {@link #clientJvmFlags()},
     * one per line so that a path with spaces stays one option.
     */
    private void writeEndpointsFile() {
        Properties p = new Properties();
        p.setProperty("mqttPort", Integer.toString(mqttPort));
        p.setProperty("restPort", Integer.toString(restPort));
        p.setProperty("amqpPort", Integer.toString(amqpPort));
        p.setProperty("proxyPort", Integer.toString(proxyPort));
        p.setProperty("hubConnectionString", hubConnectionString());
        p.setProperty("deviceConnectionString", WellKnownKeys.DEVICE_CONNECTION_STRING);
        p.setProperty("eventHubsPort", Integer.toString(eventHubsPort()));
        p.setProperty("eventHubName", EVENT_HUB_NAME);
        p.setProperty("eventHubsConnectionString", eventHubsConnectionString());
        Path file = DataDirectory.endpointsFile(config.dataDirectory());
        Path flags = DataDirectory.clientJvmFlagsFile(config.dataDirectory());
        try (var out = Files.newOutputStream(file)) {
            p.store(out, "Written by local-hub at start-up");
            Files.write(flags, clientJvmFlags());
        } catch (IOException e) {
            throw new IllegalStateException("Cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Exceptions no handler took. Vert.x MQTT throws for each packet a client sends after the hub closed its
     * connection (the rest of the read batch); a flooding client sends thousands, so these are logged at debug.
     */
    private static void unhandled(Throwable e) {
        if (e instanceof IllegalArgumentException && String.valueOf(e.getMessage()).contains("not connected client")) {
            LOG.debug("MQTT packet after close: {}", e.getMessage());
        } else {
            LOG.error("Unhandled exception", e);
        }
    }


    /** Stops the listeners and closes the store (everything acknowledged is already committed). */
    public synchronized void stop() {
        if (jobs != null) {
            jobs.close();
            jobs = null;
        }
        if (jobExecutors != null) {
            jobExecutors.close(); // after the jobs: their last records are committed on these threads
            jobExecutors = null;
        }
        if (listeners != null) {
            listeners.close(); // before the rest of Vert.x: see Listeners.close
            listeners = null;
        }
        if (vertx != null) {
            Listeners.await(vertx.close());
            vertx = null;
        }
        if (edge != null) {
            edge.close();
            edge = null;
        }
        if (c2d != null) {
            c2d.close(); // before the store: its sweeper commits
            c2d = null;
        }
        eventHubs = null; // closed with Vert.x
        if (telemetry != null) {
            telemetry.close(); // after the device listeners: what they acknowledged is stored
            telemetry = null;
        }
        if (telemetryTempDirectory != null) {
            deleteTree(telemetryTempDirectory);
            telemetryTempDirectory = null;
        }
        if (store != null) {
            store.close();
            store = null;
        }
    }

    /**
     * The telemetry log: under the data directory ({@code telemetry/}), or for an in-memory hub in a temporary
     * directory removed when the hub stops.
     */
    private TelemetryLog openTelemetry() {
        Path directory;
        if (config.inMemory()) {
            try {
                telemetryTempDirectory = Files.createTempDirectory("local-hub-telemetry");
            } catch (IOException e) {
                throw new IllegalStateException("Cannot create a temporary directory for telemetry: " + e.getMessage(), e);
            }
            directory = telemetryTempDirectory;
        } else {
            directory = config.dataDirectory().resolve("telemetry");
        }
        return TelemetryLog.open(directory, config.telemetry(), clock);
    }

    private static void deleteTree(Path root) {
        try (var paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            LOG.debug("Could not delete {}", root, e);
        }
    }

    @Override
    public void close() {
        stop();
    }

    /**
     * Stops and starts this hub again, on the same ports and (unless in-memory) with the same data, as a
     * restarted process would. Connected devices are disconnected and reconnect by themselves.
     */
    public synchronized LocalHub restart() {
        int consolePort = listeners != null && listeners.consolePort() > 0 ? listeners.consolePort() : config.consolePort();
        int eventHubsPort = eventHubsPort();
        stop();
        config = config.toBuilder().mqttPort(mqttPort).restPort(restPort).amqpPort(amqpPort).consolePort(consolePort)
                .eventHubsPort(eventHubsPort)
                .proxyPort(proxyPort > 0 ? proxyPort : config.proxyPort())
                .alwaysProxy(config.alwaysProxy() || proxyPort > 0).build();
        restBindProblem = null;
        proxyPort = -1;
        mqttPort = 0;
        amqpPort = 0;
        startUp();
        return this;
    }

    public HubConfig config() {
        return config;
    }

    public int mqttPort() {
        return mqttPort;
    }

    /** The AMQP over TLS port (devices and services). */
    public int amqpPort() {
        return amqpPort;
    }

    public int restPort() {
        return restPort;
    }

    /** The Event Hubs-compatible endpoint's port (plain AMQP). */
    public int eventHubsPort() {
        return eventHubs == null ? config.eventHubsPort() : eventHubs.port();
    }

    /** The event hub name of the built-in endpoint (the portal's "Event Hub-compatible name"). */
    public String eventHubName() {
        return EVENT_HUB_NAME;
    }

    /**
     * The built-in endpoint's Event Hubs-compatible connection string with the {@code service} policy, as the
     * portal's "Built-in endpoints" blade shows it (plus {@code UseDevelopmentEmulator=true}: plain AMQP, no TLS).
     */
    public String eventHubsConnectionString() {
        return eventHubsConnectionString("service", WellKnownKeys.SERVICE_KEY);
    }

    /** As {@link #eventHubsConnectionString()} with another policy (one lacking Service Connect is refused). */
    public String eventHubsConnectionString(String policy, String key) {
        return EventHubsEndpoint.connectionString(WellKnownKeys.HOST_NAME, eventHubsPort(), EVENT_HUB_NAME, policy, key);
    }

    /** The telemetry stream (the console and tests read it; devices append to it). */
    public TelemetryLog telemetry() {
        return telemetry;
    }

    /** The CONNECT proxy port, or -1 when the REST endpoint is reachable directly on 443. */
    public int proxyPort() {
        return proxyPort;
    }

    /** Why the configured REST port could not be bound, or null. */
    public String restBindProblem() {
        return restBindProblem;
    }

    public Path caCertificatePem() {
        return certificates.caPemPath();
    }

    public Path trustStore() {
        return certificates.trustStorePath();
    }

    /** Devices connected over MQTT right now (diagnostics and load measurements). */
    public int connectedDevices() {
        return edge.connectedCount();
    }

    /** The hub's cloud-to-device queues and feedback queue (the core API the service transports use). */
    public C2dQueues cloudToDevice() {
        return c2d;
    }

    /** "BoringSSL" or "JDK": the TLS engine the listeners use. */
    public String tlsEngineName() {
        return VertxTlsOptions.engineName(config.tlsEngine());
    }

    public String hubConnectionString() {
        return WellKnownKeys.HUB_CONNECTION_STRING;
    }

    /** Connection string of a registered device, with its primary key. */
    public String deviceConnectionString(String deviceId) {
        Device d = registry.get(deviceId);
        return "HostName=" + WellKnownKeys.HOST_NAME + ";DeviceId=" + deviceId + ";SharedAccessKey=" + d.primaryKey();
    }

    /** {@code HostName=...;DeviceId=...;ModuleId=...;SharedAccessKey=...} of a registered SAS module (for ModuleClient). */
    public String moduleConnectionString(String deviceId, String moduleId) {
        Device m = modules.find(deviceId, moduleId);
        if (m == null) {
            throw new IllegalArgumentException("Module " + moduleId + " of device " + deviceId + " is not registered");
        }
        return "HostName=" + WellKnownKeys.HOST_NAME + ";DeviceId=" + deviceId + ";ModuleId=" + moduleId
                + ";SharedAccessKey=" + m.primaryKey();
    }

    /**
     * The JVM options that let an unmodified Java app on this machine reach this hub: trust the development
     * CA and, when port 443 could not be bound, send the service SDK's HTTPS through the hub's CONNECT proxy.
     * The hub also writes them to {@code <data dir>/client-jvm-flags.txt}; the banner prints them.
     */
    public List<String> clientJvmFlags() {
        List<String> flags = new ArrayList<>(List.of(
                "-Djavax.net.ssl.trustStore=" + trustStore(),
                "-Djavax.net.ssl.trustStorePassword=" + WellKnownKeys.TRUST_STORE_PASSWORD,
                "-Djavax.net.ssl.trustStoreType=PKCS12"));
        if (proxyPort > 0 && restPort != HubConfig.DEFAULT_REST_PORT) {
            flags.add("-Dhttps.proxyHost=" + config.bindHost());
            flags.add("-Dhttps.proxyPort=" + proxyPort);
            flags.add("-Dhttp.nonProxyHosts="); // the JDK never proxies 127.* unless this says otherwise
        }
        return flags;
    }

    /**
     * Applies {@link #clientJvmFlags()} to this JVM (what the JUnit extension does for the tests that use it).
     * Must run before the JVM's first HTTPS connection.
     */
    /** The tier's quotas and throttles this hub applies ({@link HubThrottles#none()} without a tier). */
    public HubThrottles throttles() {
        return throttles;
    }

    public void configureThisJvm() {
        for (String flag : clientJvmFlags()) {
            int eq = flag.indexOf('=');
            System.setProperty(flag.substring("-D".length(), eq), flag.substring(eq + 1));
        }
    }
}
