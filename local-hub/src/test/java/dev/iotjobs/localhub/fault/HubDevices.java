package dev.iotjobs.localhub.fault;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.WellKnownKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.PfxOptions;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;

import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** Registers devices over raw REST and connects them with Vert.x's MQTT client (any hub, any ports). */
final class HubDevices {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    record Registered(String id, String key) {
        String token() {
            return SasToken.create(WellKnownKeys.HOST_NAME + "/devices/" + id, key, null,
                    Instant.now().getEpochSecond() + 600);
        }

        String username() {
            return WellKnownKeys.HOST_NAME + "/" + id + "/?api-version=2021-04-12";
        }
    }

    private final LocalHub hub;
    private final RawHttp http;

    HubDevices(LocalHub hub) {
        this.hub = hub;
        this.http = new RawHttp(hub);
    }

    RawHttp http() {
        return http;
    }

    static String newId(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    Registered register(String prefix) throws Exception {
        String id = newId(prefix);
        RawHttp.Response r = http.send("PUT", "/devices/" + id + "?" + RawHttp.API, "{\"deviceId\":\"" + id + "\"}");
        if (r.status() != 200) {
            throw new IllegalStateException("cannot register " + id + ": " + r);
        }
        return new Registered(id, MAPPER.readTree(r.body()).path("authentication").path("symmetricKey")
                .path("primaryKey").asText());
    }

    MqttClientOptions options(String clientId, String username, String password) {
        MqttClientOptions o = new MqttClientOptions();
        o.setClientId(clientId);
        o.setUsername(username);
        o.setPassword(password);
        o.setCleanSession(false);
        o.setSsl(true);
        o.setHostnameVerificationAlgorithm("HTTPS");
        o.setTrustOptions(new PfxOptions().setPath(hub.trustStore().toString())
                .setPassword(WellKnownKeys.TRUST_STORE_PASSWORD));
        o.setMaxMessageSize(256 * 1024);
        return o;
    }

    /** Connects as the device; the future fails with the CONNACK code when refused. */
    Future<MqttClient> connect(Vertx vertx, String clientId, String username, String password) {
        MqttClient client = MqttClient.create(vertx, options(clientId, username, password));
        return client.connect(hub.mqttPort(), WellKnownKeys.HOST_NAME).map(ack -> client);
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
    }
}
