package dev.iotjobs.localhub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.tls.VertxTlsOptions;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.messages.MqttPublishMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * The warm-up rehearsal ({@link HubConfig#warmUp()}, on for {@code java -jar}, off for embedded and JUnit hubs).
 * <p>
 * A fresh JVM runs a job's code interpreted until the JIT compiler has compiled it, and on two cores that
 * compiling took a third of the CPU during a fresh hub's first job (docs/benchmarks.md, "The cold hub"): its
 * first twin job over 1M twins ran at half the speed of the next ones, its first method job at a quarter. So,
 * right after start, this rehearses what a job does on a private, throw-away hub in this JVM (a temporary
 * directory, free loopback ports, no console, no log lines): it registers a few thousand devices over REST,
 * connects a few hundred of them over MQTT/TLS from this JVM, and runs rounds of twin jobs, method jobs,
 * queries and twin and method calls through the real endpoints. The compiled code is the JVM's, not the
 * scratch hub's, so the user's first job runs compiled. The rehearsal takes a few seconds of CPU while the
 * user is still registering or connecting devices.
 * <p>
 * It shares nothing with the real hub but the JVM: its own store, ports, threads and data, all gone when it
 * ends. It ends when its rounds are done, after {@link #DEADLINE_SECONDS}, or when the hub stops; a failure is
 * logged and changes nothing but the speed of the first job.
 */
final class WarmUp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WarmUp.class);
    /**
     * What to rehearse: twins each twin job updates, devices connected over MQTT/TLS (each method job calls
     * them), rounds of (twin job, method job, queries, single calls); and when the hub holds a fleet, so that the
     * rehearsal is worth its CPU: registered or connected devices (see LocalHub). {@link #DEFAULT} gets the
     * per-device code of both kinds of job past the JIT's top-tier thresholds (tens of thousands of calls).
     */
    record Plan(int twins, int connected, int rounds, int fleetDevices, int fleetConnections) {
        static final Plan DEFAULT = new Plan(4_000, 400, 12, 1_000, 100);
    }
    static final long DEADLINE_SECONDS = 60;

    private static final String API = "?api-version=2021-04-12";
    private static final String TAG = "localHubWarmUp";

    private final HubConfig real;
    private final Plan plan;
    private final Thread thread;
    private volatile boolean stopping;
    private volatile LocalHub scratch;
    private volatile Path directory;
    private volatile int rounds;
    private volatile Exception failure;

    private WarmUp(HubConfig real, Plan plan) {
        this.real = real;
        this.plan = plan;
        this.thread = new Thread(this::run, "local-hub-warm-up");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
    }

    /** Starts the rehearsal on a thread of its own and returns at once. */
    static WarmUp start(HubConfig real) {
        return start(real, Plan.DEFAULT);
    }

    static WarmUp start(HubConfig real, Plan plan) {
        WarmUp warmUp = new WarmUp(real, plan);
        warmUp.thread.start();
        return warmUp;
    }

    /** Stops the rehearsal (if it still runs) and waits until its hub, clients and files are gone. */
    @Override
    public void close() {
        stopping = true;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the rehearsal has ended (done, failed or stopped). */
    boolean ended() {
        return !thread.isAlive();
    }

    /** Rounds rehearsed so far. */
    int rounds() {
        return rounds;
    }

    /** Why the rehearsal failed, or null. */
    Exception failure() {
        return failure;
    }

    /** The scratch hub's temporary data directory (null before it is made). */
    Path directory() {
        return directory;
    }

    private void run() {
        long start = System.nanoTime();
        Path dir = null;
        try {
            dir = Files.createTempDirectory("local-hub-warm-up");
            directory = dir;
            copyCertificates(DataDirectory.certsDir(real.dataDirectory()), DataDirectory.certsDir(dir));
            if (stopping) {
                return;
            }
            scratch = LocalHub.start(HubConfig.builder().dataDirectory(dir).bindHost(WellKnownKeys.HOST_NAME)
                    .mqttPort(0).restPort(0).proxyPort(0).consolePort(HubConfig.CONSOLE_OFF)
                    .tlsEngine(real.tlsEngine()).eventLoops(real.eventLoops()).jobWorkerThreads(real.jobWorkerThreads())
                    .coreWorkerThreads(real.coreWorkerThreads()).methodsInFlight(real.methodsInFlight())
                    .logJobs(false).build());
            Vertx clients = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                    .setInternalBlockingPoolSize(1).setBlockedThreadCheckInterval(60_000));
            try {
                new Rehearsal(scratch, clients).run(start);
                LOG.debug("Warm-up rehearsal: {} rounds in {} ms", rounds, (System.nanoTime() - start) / 1_000_000);
            } finally {
                clients.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
        } catch (Stopped | InterruptedException e) {
            LOG.debug("Warm-up rehearsal stopped with the hub");
        } catch (Exception e) {
            if (!stopping) {
                failure = e;
                LOG.warn("The warm-up rehearsal failed ({}). The hub works as usual; only its first jobs run slower "
                        + "(start it with --no-warm-up to skip the rehearsal).", e.toString());
                LOG.debug("Warm-up rehearsal failure", e);
            }
        } finally {
            LocalHub hub = scratch;
            if (hub != null) {
                hub.stop();
            }
            deleteQuietly(dir);
        }
    }

    /** The real hub's development CA and server certificate, so the scratch hub generates no key. */
    private static void copyCertificates(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            return;
        }
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f) && !f.getFileName().toString().endsWith(".tmp")) {
                    Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.debug("Could not delete the warm-up directory {}: {}", dir, e.toString());
        }
    }

    /** Thrown out of a wait when the hub stops. */
    private static final class Stopped extends RuntimeException {
        Stopped() {
            super(null, null, false, false);
        }
    }

    /** The rehearsal proper: a user's service app and devices, against the scratch hub. */
    private final class Rehearsal {
        private final LocalHub hub;
        private final Vertx vertx;
        /** The JDK's client, as the service SDK's HTTPS (a Vert.x client lost an answer now and then here). */
        private final HttpClient http;
        private final String token = SasToken.create(WellKnownKeys.HOST_NAME, WellKnownKeys.IOTHUBOWNER_KEY,
                "iothubowner", Instant.now().getEpochSecond() + 3600);
        private final List<MqttClient> devices = new ArrayList<>();

        Rehearsal(LocalHub hub, Vertx vertx) {
            this.hub = hub;
            this.vertx = vertx;
            this.http = HttpClient.newBuilder().sslContext(trustingTheHub(hub)).proxy(HttpClient.Builder.NO_PROXY)
                    .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        }

        void run(long startNanos) throws Exception {
            List<String> keys = register();
            connect(keys);
            int round = 0;
            while (round < plan.rounds() && !stopping
                    && System.nanoTime() - startNanos < TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS)) {
                round++;
                String twinJob = schedule(Json.object().put("type", "scheduleUpdateTwin")
                        .put("queryCondition", "tags." + TAG + " = 'yes'")
                        .set("updateTwin", Json.object().put("etag", "*").set("properties", Json.object()
                                .set("desired", Json.object().put("building", 43).put("floor", round)))));
                String methodJob = schedule(Json.object().put("type", "scheduleDeviceMethod")
                        .put("queryCondition", "tags.connected = 'yes'")
                        .set("cloudToDeviceMethod", Json.object().put("methodName", "lockDoor")
                                .put("responseTimeoutInSeconds", 30).put("connectTimeoutInSeconds", 5)
                                .set("payload", Json.object().put("lockTime", "10m"))));
                awaitCompleted(twinJob);
                awaitCompleted(methodJob);
                call("POST", "/devices/query", Json.object().put("query",
                        "SELECT COUNT() AS n FROM devices WHERE tags." + TAG + " = 'yes' AND properties.desired.floor = "
                                + round));
                call("POST", "/devices/query", Json.object().put("query",
                        "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '" + methodJob + "'"));
                String device = "warm-up-" + (round % plan.connected());
                call("GET", "/twins/" + device, null);
                call("PATCH", "/twins/" + device, Json.object().set("properties", Json.object()
                        .set("desired", Json.object().put("round", round))));
                call("POST", "/twins/" + device + "/methods", Json.object().put("methodName", "lockDoor")
                        .put("responseTimeoutInSeconds", 30).set("payload", Json.object().put("lockTime", "10m")));
                call("GET", "/jobs/v2/query", null);
                rounds = round;
            }
            for (MqttClient d : devices) {
                d.disconnect();
            }
        }

        /** Registers the devices in bulk requests of 100 (the first {@code connected} tagged as connected). */
        private List<String> register() throws Exception {
            SecureRandom random = new SecureRandom();
            List<String> keys = new ArrayList<>(plan.connected());
            for (int first = 0; first < plan.twins(); first += 100) {
                ArrayNode batch = Json.NODES.arrayNode();
                for (int i = first; i < Math.min(plan.twins(), first + 100); i++) {
                    byte[] key = new byte[32];
                    random.nextBytes(key);
                    String primary = Base64.getEncoder().encodeToString(key);
                    if (i < plan.connected()) {
                        keys.add(primary);
                    }
                    ObjectNode d = batch.addObject().put("id", "warm-up-" + i).put("importMode", "create");
                    d.set("authentication", Json.object().put("type", "sas").set("symmetricKey",
                            Json.object().put("primaryKey", primary).put("secondaryKey", primary)));
                    d.set("tags", Json.object().put(TAG, "yes").put("connected", i < plan.connected() ? "yes" : "no"));
                }
                JsonNode result = call("POST", "/devices", batch);
                if (!result.path("isSuccessful").asBoolean()) {
                    throw new IllegalStateException("bulk registration failed: " + result);
                }
            }
            return keys;
        }

        /**
         * Connects devices {@code warm-up-0..} over MQTT/TLS as the device SDK does (durable session, QoS 1
         * subscriptions and answers); they answer lockDoor.
         */
        private void connect(List<String> keys) throws Exception {
            List<Future<?>> connecting = new ArrayList<>();
            long expiry = Instant.now().getEpochSecond() + 3600;
            for (int i = 0; i < keys.size(); i++) {
                String id = "warm-up-" + i;
                MqttClientOptions options = new MqttClientOptions().setClientId(id).setCleanSession(false)
                        .setAutoKeepAlive(true).setKeepAliveInterval(60)
                        .setUsername(WellKnownKeys.HOST_NAME + "/" + id + "/" + API)
                        .setPassword(SasToken.create(WellKnownKeys.HOST_NAME + "/devices/" + id, keys.get(i), null, expiry))
                        .setMaxMessageSize(256 * 1024).setAckTimeout(-1);
                options.setSsl(true).setTrustOptions(trust()).setSslEngineOptions(VertxTlsOptions.engine(real.tlsEngine()))
                        .setHostnameVerificationAlgorithm("HTTPS");
                MqttClient client = MqttClient.create(vertx, options);
                client.publishHandler(message -> answer(client, message));
                Map<String, Integer> topics = new LinkedHashMap<>();
                topics.put("$iothub/methods/POST/#", 1);
                topics.put("$iothub/twin/PATCH/properties/desired/#", 1);
                connecting.add(client.connect(hub.mqttPort(), WellKnownKeys.HOST_NAME)
                        .compose(ack -> client.subscribe(topics)));
                devices.add(client);
                if (connecting.size() == 50) { // a few handshakes at a time, as devices arriving
                    await("MQTT connect", Future.all(connecting));
                    connecting.clear();
                }
            }
            await("MQTT connect", Future.all(connecting));
        }

        /** Clients trust the development CA, check the hub's name, and use the hub's TLS engine (its code, compiled). */
        private PemTrustOptions trust() {
            return new PemTrustOptions().addCertPath(hub.caCertificatePem().toString());
        }

        private void answer(MqttClient client, MqttPublishMessage message) {
            String topic = message.topicName();
            int rid = topic.indexOf("$rid=");
            if (topic.startsWith("$iothub/methods/POST/") && rid > 0) {
                client.publish("$iothub/methods/res/200/?$rid=" + topic.substring(rid + 5),
                        Buffer.buffer("{\"Response\":\"lockDoor called successfully\"}"), MqttQoS.AT_LEAST_ONCE, false, false);
            }
        }

        private String schedule(ObjectNode job) throws Exception {
            String id = "warm-up-" + UUID.randomUUID();
            job.put("jobId", id).put("startTime", Json.time(Instant.now())).put("maxExecutionTimeInSeconds", 60);
            call("PUT", "/jobs/v2/" + id, job);
            return id;
        }

        private void awaitCompleted(String jobId) throws Exception {
            while (true) {
                JsonNode job = call("GET", "/jobs/v2/" + jobId, null);
                String status = job.path("status").asText();
                if (status.equals("completed")) {
                    return;
                }
                if (status.equals("failed") || status.equals("cancelled")) {
                    throw new IllegalStateException("rehearsed job " + jobId + " ended " + status);
                }
                Thread.sleep(10);
            }
        }

        /** One REST call with the iothubowner policy; a status other than 2xx fails the rehearsal. */
        private JsonNode call(String method, String path, JsonNode body) throws Exception {
            if (stopping) {
                throw new Stopped();
            }
            HttpRequest request = HttpRequest.newBuilder(URI.create("https://" + WellKnownKeys.HOST_NAME + ":"
                            + hub.restPort() + path + API))
                    .header("Authorization", token).header("Content-Type", "application/json; charset=utf-8")
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(Json.bytes(body)))
                    .timeout(Duration.ofSeconds(60)).build();
            HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException(method + " " + path + " answered " + response.statusCode() + ": "
                        + new String(response.body(), StandardCharsets.UTF_8));
            }
            return response.body().length == 0 ? Json.object() : Json.parse(response.body());
        }

        /** An SSL context that trusts the development CA only (nothing JVM-wide changes). */
        private static SSLContext trustingTheHub(LocalHub hub) {
            try (InputStream in = Files.newInputStream(hub.trustStore())) {
                KeyStore trusted = KeyStore.getInstance("PKCS12");
                trusted.load(in, WellKnownKeys.TRUST_STORE_PASSWORD.toCharArray());
                TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                factory.init(trusted);
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(null, factory.getTrustManagers(), null);
                return context;
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalStateException("cannot read the development trust store: " + e.getMessage(), e);
            }
        }

        private <T> T await(String what, Future<T> future) throws Exception {
            if (stopping) {
                throw new Stopped();
            }
            try {
                return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            } catch (TimeoutException e) {
                throw new IllegalStateException(what + ": no answer within 30 s", e);
            }
        }
    }
}
