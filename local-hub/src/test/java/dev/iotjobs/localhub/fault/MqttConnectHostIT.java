package dev.iotjobs.localhub.fault;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.vertx.core.Vertx;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttConnectionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Instant;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An MQTT CONNECT must name this hub, in the username and in the token's sr, as IoT Hub requires. */
@ExtendWith(LocalHubExtension.class)
class MqttConnectHostIT {
    private static Vertx vertx;
    private final HubDevices devices;

    MqttConnectHostIT(LocalHub hub) {
        devices = new HubDevices(hub);
    }

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() throws Exception {
        HubDevices.await(vertx.close());
    }

    private MqttConnectReturnCode refusal(String clientId, String username, String password) {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> HubDevices.await(devices.connect(vertx, clientId, username, password)));
        return assertInstanceOf(MqttConnectionException.class, e.getCause()).code();
    }

    @Test
    void aUsernameForAnotherHostIsRefused() throws Exception {
        HubDevices.Registered d = devices.register("mq-host");
        assertEquals(MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
                refusal(d.id(), "evil.example.com/" + d.id() + "/?api-version=2021-04-12", d.token()));
        assertEquals(MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
                refusal(d.id(), "x127.0.0.1/" + d.id() + "/?api-version=2021-04-12", d.token()));
        assertEquals(MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
                refusal(d.id(), "/" + d.id() + "/?api-version=2021-04-12", d.token()));
    }

    @Test
    void aTokenForAnotherHostIsRefusedEvenWhenSignedWithTheDeviceKey() throws Exception {
        HubDevices.Registered d = devices.register("mq-sr");
        String evil = SasToken.create("evil/devices/" + d.id(), d.key(), null, Instant.now().getEpochSecond() + 600);
        assertEquals(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, refusal(d.id(), d.username(), evil));
    }

    @Test
    void theHubsOwnNameIsAcceptedInAnyCase() throws Exception {
        HubDevices.Registered d = devices.register("mq-ok");
        MqttClient client = HubDevices.await(devices.connect(vertx, d.id(), d.username(), d.token()));
        assertTrue(client.isConnected());
        HubDevices.await(client.disconnect());
    }
}
