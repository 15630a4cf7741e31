package dev.iotjobs.localhub.architecture;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaAccess;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.MemoryHubStore;
import dev.iotjobs.localhub.store.MvHubStore;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The layers of local-hub (docs/local-hub.md, "Architecture"), checked on the main classes:
 * <pre>
 * wiring     LocalHub, Main, junit            may use everything
 * adapters   rest, mqtt, tls, console,        protocols (Vert.x, Netty, Proton) around the core
 *            eventhubs
 * core       edge, device, jobs, method,      IoT Hub's behaviour, protocol-free; device transports reach it
 *            query, auth, session, x509,      through edge (DeviceEdge, EdgeSession) only
 *            c2d, telemetry, model, json, concurrent
 * store      store                            durable maps of bytes, knows nothing above it
 * config     config                           the hub's settings and well-known values
 * </pre>
 */
class ArchitectureTest {
    /** The main classes only (tests may reach into any layer to set up a case). */
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.iotjobs.localhub");
    private static final String[] CORE = {"..localhub.device..", "..localhub.jobs..", "..localhub.method..",
            "..localhub.query..", "..localhub.auth..", "..localhub.session..", "..localhub.model..",
            "..localhub.json..", "..localhub.concurrent..", "..localhub.x509..", "..localhub.edge..",
            "..localhub.c2d..", "..localhub.telemetry..", "..localhub.throttle.."};
    /** What the store may use of the core: the shared concurrency helpers, nothing else. */
    private static final String[] CORE_ABOVE_STORE = java.util.Arrays.stream(CORE)
            .filter(p -> !p.contains("concurrent")).toArray(String[]::new);
    private static final String[] ADAPTERS = {"..localhub.rest..", "..localhub.mqtt..", "..localhub.tls..",
            "..localhub.console..", "..localhub.amqp..", "..localhub.eventhubs.."};

    private static final ArchRule NO_PACKAGE_CYCLES = slices().matching("dev.iotjobs.localhub.(*)..")
            .should().beFreeOfCycles()
            .because("a cycle makes two packages one, and hides which of them a change affects");

    private static final ArchRule CORE_KNOWS_NO_ADAPTER_AND_NO_NETWORK_LIBRARY = noClasses().that().resideInAnyPackage(CORE)
            .should().dependOnClassesThat().resideInAnyPackage(ADAPTERS)
            .orShould().dependOnClassesThat().resideInAnyPackage("io.vertx..", "io.netty..", "org.apache.qpid..",
                    "org.eclipse.paho..", "com.azure..", "com.microsoft.azure..", "dev.iotjobs.localhub.junit..")
            .orShould().dependOnClassesThat().resideInAPackage("dev.iotjobs.localhub")
            .because("the core is IoT Hub's behaviour; a new protocol (WebSockets, AMQP, a console) is a new "
                    + "adapter around it, not a change inside it");

    /** Device transports: what a device does and what the hub sends it goes through the device edge. */
    private static final ArchRule DEVICE_TRANSPORTS_REACH_THE_CORE_THROUGH_THE_EDGE = noClasses()
            .that().resideInAPackage("dev.iotjobs.localhub.mqtt..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.iotjobs.localhub.device..",
                    "dev.iotjobs.localhub.auth..", "dev.iotjobs.localhub.session..", "dev.iotjobs.localhub.method..",
                    "dev.iotjobs.localhub.jobs..", "dev.iotjobs.localhub.query..", "dev.iotjobs.localhub.telemetry..")
            .orShould().dependOnClassesThat().belongToAnyOf(dev.iotjobs.localhub.c2d.C2dQueues.class)
            .because("authentication, twins, methods, telemetry, cloud-to-device and connection state are the "
                    + "edge's, the same for every protocol: a second transport (AMQP) is a thin adapter over it");

    private static final ArchRule ADAPTERS_NEVER_TOUCH_THE_STORE = noClasses().that().resideInAnyPackage(ADAPTERS)
            .should().dependOnClassesThat().resideInAPackage("dev.iotjobs.localhub.store..")
            .because("what a protocol does to durable state goes through the core and its typed stores");

    private static final ArchRule STORE_KNOWS_NOTHING_ABOVE_IT = noClasses().that().resideInAPackage("dev.iotjobs.localhub.store..")
            .should().dependOnClassesThat().resideInAnyPackage(ADAPTERS)
            .orShould().dependOnClassesThat().resideInAnyPackage(CORE_ABOVE_STORE)
            .orShould().dependOnClassesThat().resideInAnyPackage("dev.iotjobs.localhub.config..",
                    "dev.iotjobs.localhub.junit..", "dev.iotjobs.localhub")
            .because("a store is a map of bytes: where its file lives and what its documents mean are "
                    + "decided above it");

    private static final ArchRule ONLY_TYPED_STORES_USE_STORE_KEYS = noClasses()
            .that().resideOutsideOfPackage("dev.iotjobs.localhub.store..")
            .and().resideOutsideOfPackage("dev.iotjobs.localhub") // the wiring opens and closes the store
            .and().haveSimpleNameNotEndingWith("Store")
            .should().accessTargetWhere(ownedBy(HubStore.class, HubStore.Bucket.class, HubStore.Write.class))
            .because("each aggregate's typed store (DeviceStore, JobStore, SessionStore, C2dStore) owns its keys and "
                    + "encoding; everyone else hands it values");

    private static final ArchRule STORE_IMPLEMENTATIONS_ARE_CHOSEN_ONLY_BY_THE_WIRING = noClasses()
            .that().resideInAnyPackage(CORE).or().resideInAnyPackage(ADAPTERS)
            .should().dependOnClassesThat().belongToAnyOf(MvHubStore.class, MemoryHubStore.class)
            .because("the backend (memory or MVStore) is picked in one place, LocalHub");

    private static final String JOBS = "dev.iotjobs.localhub.jobs.";

    /**
     * A device's state within a job, and the records that make it durable, have one writer: DeviceJobLedger
     * (and its twin-batch record). JobCodec only rebuilds a progress from stored records at start-up.
     */
    private static final ArchRule ONE_WRITER_OF_DEVICE_JOB_STATE = noClasses()
            .that().haveNameNotMatching(java.util.regex.Pattern.quote(JOBS + "DeviceJobLedger") + ".*")
            .and().doNotHaveFullyQualifiedName(JOBS + "JobCodec")
            .should().accessTargetWhere(named(JOBS + "JobProgress", "transition"))
            .orShould().accessTargetWhere(named(JOBS + "JobStore", "saveOutcomes", "twinBatch"))
            .orShould().accessTargetWhere(named(JOBS + "Job$Fanout", "next", "inFlight"))
            .because("a device's job state moved from several places raced (a cancel against an answer, a "
                    + "batch against its commit); one writer orders every change and its record");

    @Test
    void oneWriterOfDeviceJobState() {
        ONE_WRITER_OF_DEVICE_JOB_STATE.check(MAIN);
    }

    /** Accesses of the named members of the named class. */
    private static DescribedPredicate<JavaAccess<?>> named(String owner, String... members) {
        java.util.Set<String> names = java.util.Set.of(members);
        return new DescribedPredicate<>(owner + " " + names) {
            @Override
            public boolean test(JavaAccess<?> access) {
                return access.getTargetOwner().getName().equals(owner) && names.contains(access.getName());
            }
        };
    }

    @Test
    void noPackageCycles() {
        NO_PACKAGE_CYCLES.check(MAIN);
    }

    @Test
    void coreKnowsNoAdapterAndNoNetworkLibrary() {
        CORE_KNOWS_NO_ADAPTER_AND_NO_NETWORK_LIBRARY.check(MAIN);
    }

    @Test
    void deviceTransportsReachTheCoreThroughTheEdge() {
        DEVICE_TRANSPORTS_REACH_THE_CORE_THROUGH_THE_EDGE.check(MAIN);
    }

    @Test
    void adaptersNeverTouchTheStore() {
        ADAPTERS_NEVER_TOUCH_THE_STORE.check(MAIN);
    }

    @Test
    void storeKnowsNothingAboveIt() {
        STORE_KNOWS_NOTHING_ABOVE_IT.check(MAIN);
    }

    @Test
    void onlyTypedStoresUseStoreKeys() {
        ONLY_TYPED_STORES_USE_STORE_KEYS.check(MAIN);
    }

    @Test
    void storeImplementationsAreChosenOnlyByTheWiring() {
        STORE_IMPLEMENTATIONS_ARE_CHOSEN_ONLY_BY_THE_WIRING.check(MAIN);
    }

    /** Calls and field accesses on members of the given classes (constructors included). */
    private static DescribedPredicate<JavaAccess<?>> ownedBy(Class<?>... owners) {
        return new DescribedPredicate<>("target owned by HubStore, HubStore.Bucket or HubStore.Write") {
            @Override
            public boolean test(JavaAccess<?> access) {
                JavaClass owner = access.getTargetOwner();
                for (Class<?> c : owners) {
                    if (owner.isEquivalentTo(c)) {
                        return true;
                    }
                }
                return false;
            }
        };
    }
}
