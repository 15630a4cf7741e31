package dev.iotjobs.localhub.junit;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.c2d.C2dSettings;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.throttle.Tier;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * JUnit 5 extension: {@code @ExtendWith(LocalHubExtension.class)} gives a test class a running local hub
 * (inject {@link LocalHub} into a constructor, lifecycle or test method).
 * <p>
 * The Azure SDKs always dial ports 443 and 8883, so there is one hub per test JVM, shared by all test
 * classes and stopped when the JVM's tests end; tests isolate themselves with unique device and job ids.
 * The hub keeps a real (durable) store in a temporary directory, so tests can restart it. Before the
 * first test runs, the JVM is set to trust the hub's CA (and to use its CONNECT proxy where port 443 could
 * not be bound), so the unmodified SDKs connect with full certificate checks.
 * <p>
 * A class annotated {@link HubTier} gets a hub with that tier's throttles instead: as the ports are shared,
 * the JVM's hub is restarted (same CA; a tiered hub keeps its store in memory) whenever a class needs another tier than the running
 * one's, so tiered classes cost a hub start each, and untiered ones see an untiered hub as before. A class annotated
 * {@link HubC2dLock} gets a hub with that cloud-to-device lock duration, the same way.
 * Telemetry the tests' devices send is read back with the Event Hubs client and
 * {@link LocalHub#eventHubsConnectionString()} (the built-in endpoint listens on a free port here; the connection
 * string names it).
 * <p>
 * The hub's web console is off here unless asked for: {@code -Dlocalhub.console.port=8080} (0: any free port)
 * starts it and prints its URL, to watch the tests' devices and jobs in a browser; a test may also call
 * {@link LocalHub#startConsole(int)}.
 */
public final class LocalHubExtension implements BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(LocalHubExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        hub(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalHub.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return hub(context);
    }

    private static LocalHub hub(ExtensionContext context) {
        HubTier tier = context.getTestClass().map(c -> c.getAnnotation(HubTier.class)).orElse(null);
        HubC2dLock lock = context.getTestClass().map(c -> c.getAnnotation(HubC2dLock.class)).orElse(null);
        String key = (tier == null ? "" : tier.value() + "x" + tier.units() + "/" + tier.backlogMillis())
                + (lock == null ? "" : "/c2dLock=" + lock.millis());
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(SharedHub.class, k -> new SharedHub(), SharedHub.class).hub(key, tier, lock);
    }

    /** Closed by JUnit when the root context closes, i.e. after the last test of the JVM. */
    private static final class SharedHub implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        private LocalHub hub;
        private String key;
        /** One directory for every hub of the JVM: the JVM trusts the first hub's CA for good (TLS caches it). */
        private Path dir;

        synchronized LocalHub hub(String wanted, HubTier tier, HubC2dLock lock) {
            if (hub != null && !wanted.equals(key)) {
                hub.stop();
                hub = null;
            }
            if (hub == null) {
                hub = start(tier, lock);
                key = wanted;
            }
            return hub;
        }

        private LocalHub start(HubTier tier, HubC2dLock lock) {
            try {
                if (dir == null) {
                    dir = Files.createTempDirectory("local-iothub-test");
                }
                String console = System.getProperty("localhub.console.port");
                HubConfig.Builder config = HubConfig.builder().dataDirectory(dir).consolePort(console == null
                        ? HubConfig.CONSOLE_OFF : Integer.parseInt(console.trim()));
                if (tier != null) { // in memory: the untiered hub's store stays as it was for the classes after
                    config.tier(Tier.parse(tier.value())).units(tier.units()).inMemory(true)
                            .throttleBacklog(Duration.ofMillis(tier.backlogMillis()));
                }
                if (lock != null) { // in memory too, for the same reason
                    config.c2d(C2dSettings.DEFAULTS.withLockDuration(Duration.ofMillis(lock.millis()))).inMemory(true);
                }
                LocalHub hub = LocalHub.start(config.build());
                hub.configureThisJvm();
                if (hub.consoleUrl() != null) {
                    System.out.println("local-hub console for these tests: " + hub.consoleUrl());
                }
                return hub;
            } catch (IOException e) {
                throw new IllegalStateException("Cannot create a data directory for the test hub", e);
            }
        }

        @Override
        public synchronized void close() {
            if (hub != null) {
                hub.stop();
            }
        }
    }
}
