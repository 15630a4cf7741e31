package dev.iotjobs.rollout;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.fleet.FleetDevices;
import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.json.Json;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A small fleet for rollout tests, registered in rings ({@code tags.ring}: 6 canary, 14 early, 40 without a ring)
 * and connected through the fleet simulator with the given faults.
 */
final class RolloutFleet implements AutoCloseable {
    final String run = "ro-" + UUID.randomUUID().toString().substring(0, 8);
    /** Device ids per wave, in the rollout's order (the last wave: devices without a ring). */
    final Map<String, List<String>> waves = new LinkedHashMap<>();
    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    private final FleetSimulator fleet;

    RolloutFleet(LocalHub hub, FleetSimulator.Faults faults) throws Exception {
        List<FleetSimulator.DeviceCredentials> all = new ArrayList<>();
        FleetDevices registry = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY);
        for (String[] ring : new String[][]{{"canary", "6"}, {"early", "14"}, {"rest", "40"}}) {
            ObjectNode tags = Json.object().put("run", run);
            if (!ring[0].equals("rest")) {
                tags.put("ring", ring[0]);
            }
            List<FleetSimulator.DeviceCredentials> devices = registry.bulkCreate(run + "-" + ring[0], Integer.parseInt(ring[1]), tags);
            waves.put(ring[0], devices.stream().map(FleetSimulator.DeviceCredentials::deviceId).toList());
            all.addAll(devices);
        }
        fleet = FleetSimulator.connect(vertx, new FleetSimulator.Options(WellKnownKeys.HOST_NAME, hub.mqttPort(),
                hub.trustStore(), WellKnownKeys.TRUST_STORE_PASSWORD, 50), all, Duration.ofSeconds(60)).injectFaults(faults);
    }

    String condition() {
        return "tags.run = '" + run + "'";
    }

    @Override
    public void close() {
        fleet.close();
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }
}
