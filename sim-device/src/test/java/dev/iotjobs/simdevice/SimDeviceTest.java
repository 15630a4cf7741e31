package dev.iotjobs.simdevice;

import com.google.gson.Gson;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import dev.iotjobs.localhub.config.WellKnownKeys;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static com.microsoft.azure.sdk.iot.device.IotHubConnectionStatusChangeReason.BAD_CREDENTIAL;
import static com.microsoft.azure.sdk.iot.device.IotHubConnectionStatusChangeReason.CLIENT_CLOSE;
import static com.microsoft.azure.sdk.iot.device.IotHubConnectionStatusChangeReason.CONNECTION_OK;
import static com.microsoft.azure.sdk.iot.device.IotHubConnectionStatusChangeReason.NO_NETWORK;
import static com.microsoft.azure.sdk.iot.device.IotHubConnectionStatusChangeReason.RETRY_EXPIRED;
import static com.microsoft.azure.sdk.iot.device.transport.IotHubConnectionStatus.CONNECTED;
import static com.microsoft.azure.sdk.iot.device.transport.IotHubConnectionStatus.DISCONNECTED;
import static com.microsoft.azure.sdk.iot.device.transport.IotHubConnectionStatus.DISCONNECTED_RETRYING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device app's own decisions; nothing here connects to a hub. */
class SimDeviceTest {
    private static final String AZURE = "HostName=contoso.azure-devices.net;DeviceId=door1;SharedAccessKey=c2VjcmV0";
    private static final String OTHER = "HostName=fabrikam.azure-devices.net;DeviceId=door2;SharedAccessKey=b3RoZXI=";

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(console, true, StandardCharsets.UTF_8);

    private String console() {
        return console.toString(StandardCharsets.UTF_8);
    }

    @Test
    void connectionString_firstArgumentWinsOverEnvironment() {
        assertEquals(AZURE, SimDevice.connectionString(new String[]{AZURE},
                Map.of(SimDevice.CONNECTION_STRING_VARIABLE, OTHER)));
    }

    @Test
    void connectionString_environmentIsUsedWithoutArgument() {
        assertEquals(OTHER, SimDevice.connectionString(new String[0], Map.of(SimDevice.CONNECTION_STRING_VARIABLE, OTHER)));
    }

    @Test
    void connectionString_blankValuesFallBackToTheLocalHubDevice() {
        assertEquals(WellKnownKeys.DEVICE_CONNECTION_STRING,
                SimDevice.connectionString(new String[]{"  "}, Map.of(SimDevice.CONNECTION_STRING_VARIABLE, "")));
        assertEquals(WellKnownKeys.DEVICE_CONNECTION_STRING, SimDevice.connectionString(new String[0], Map.of()));
    }

    @Test
    void connectionString_surroundingWhitespaceIsTrimmed() {
        assertEquals(OTHER, SimDevice.connectionString(new String[0],
                Map.of(SimDevice.CONNECTION_STRING_VARIABLE, " " + OTHER + "\n")));
    }

    @Test
    void onMethod_lockDoorLocksAndAnswers200() {
        DirectMethodResponse response = SimDevice.onMethod("lockDoor", out);

        assertEquals(200, response.getStatus());
        assertEquals("{\"Response\":\"lockDoor called successfully\"}", new Gson().toJson(response.getPayload()));
        assertEquals("Locking Door!" + System.lineSeparator(), console());
    }

    @Test
    void onMethod_unknownMethodAnswers404NamingTheMethod() {
        DirectMethodResponse response = SimDevice.onMethod("reboot", out);

        assertEquals(404, response.getStatus());
        assertTrue(new Gson().toJson(response.getPayload()).contains("reboot"), "payload names the method");
        assertFalse(console().contains("Locking Door!"), "an unknown method must not lock the door");
    }

    @Test
    void onMethod_methodNamesAreCaseSensitive() {
        assertEquals(404, SimDevice.onMethod("LockDoor", out).getStatus());
    }

    @Test
    void describePatch_printsThePropertiesAndTheVersion() {
        TwinCollection patch = new TwinCollection();
        patch.put("building", 43);
        patch.put("floor", 3);
        patch.setVersion(7);

        String printed = SimDevice.describePatch(patch);

        assertTrue(printed.contains("Twin desired properties patch received:"), printed);
        assertTrue(printed.contains("\"building\":43"), printed);
        assertTrue(printed.contains("\"floor\":3"), printed);
        assertTrue(printed.contains("\"$version\":7"), printed);
    }

    @Test
    void describePatch_withoutVersionPrintsNoVersion() {
        TwinCollection patch = new TwinCollection();
        patch.put("floor", 3);

        assertFalse(SimDevice.describePatch(patch).contains("$version"));
    }

    @Test
    void describe_connectionStates() {
        assertEquals("Connection status: connected to the hub.", SimDevice.describe(CONNECTED, DISCONNECTED, CONNECTION_OK));
        assertEquals("Connection status: reconnected to the hub.",
                SimDevice.describe(CONNECTED, DISCONNECTED_RETRYING, CONNECTION_OK));
        assertTrue(SimDevice.describe(DISCONNECTED_RETRYING, CONNECTED, NO_NETWORK).contains("reconnecting"));
        assertTrue(SimDevice.describe(DISCONNECTED_RETRYING, CONNECTED, NO_NETWORK).contains("NO_NETWORK"));
        assertTrue(SimDevice.describe(DISCONNECTED, CONNECTED, CLIENT_CLOSE).contains("closed by this app"));
        assertTrue(SimDevice.describe(DISCONNECTED, DISCONNECTED_RETRYING, RETRY_EXPIRED).contains("stopped retrying"));
        assertTrue(SimDevice.describe(DISCONNECTED, CONNECTED, BAD_CREDENTIAL).contains("credentials"));
    }
}
