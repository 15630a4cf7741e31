package dev.iotjobs.simdevice;

import com.google.gson.JsonObject;
import com.microsoft.azure.sdk.iot.device.ConnectionStatusChangeContext;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubConnectionStatusChangeReason;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.transport.ExponentialBackoffWithJitter;
import com.microsoft.azure.sdk.iot.device.transport.IotHubConnectionStatus;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The simulated device of the Azure IoT Hub tutorial "Schedule and broadcast jobs". It answers the direct
 * method {@code lockDoor} and prints every desired-property patch: exactly what the two jobs of
 * ScheduleJobService do to it. Start it first and leave it running; Ctrl-C stops it.
 * <pre>
 *   SimDevice "HostName=...;DeviceId=...;SharedAccessKey=..."    (or set IOTHUB_DEVICE_CONNECTION_STRING)
 * </pre>
 * Exit code: 2 when the connection string is missing or malformed, 3 when the hub cannot be reached or
 * refuses the device.
 */
public final class SimDevice {
    static final int BAD_SETTINGS = 2, HUB_REFUSED = 3;

    // Counted down when the device has lost its connection for good: the SDK stopped reconnecting.
    private static final CountDownLatch connectionLostForGood = new CountDownLatch(1);

    public static void main(String[] args) throws InterruptedException {
        String connectionString = args.length > 0 ? args[0] : System.getenv("IOTHUB_DEVICE_CONNECTION_STRING");
        if (connectionString == null || connectionString.isBlank()) {
            System.out.println("Usage: SimDevice <device connection string>, or set IOTHUB_DEVICE_CONNECTION_STRING");
            System.exit(BAD_SETTINGS);
        }
        String host = hostName(connectionString);
        System.out.println("Starting the IoT Hub Java jobs sample (simulated device), hub " + host + "...");

        DeviceClient client;
        try {
            client = connect(connectionString);     // 1. connect once; a wrong key, id or host is reported now
            listenForJobs(client);                  // 2. answer lockDoor, print desired-property patches
        } catch (IllegalArgumentException e) {      // the SDK's checks of the connection string and its key
            System.out.println("The device connection string is malformed: " + (String.valueOf(e.getMessage()).matches("(?is).*base ?64.*")
                    ? "its SharedAccessKey is not valid base64 (a typo in its last characters?)" : hideKeys(e.getMessage())));
            System.exit(BAD_SETTINGS);
            return;
        } catch (IotHubClientException e) {
            System.out.println(e.getStatusCode() == IotHubStatusCode.UNAUTHORIZED
                    ? "The hub " + host + " refused the device: check the device id and key of the connection string."
                    : "Could not connect to the hub " + host + ": " + rootCause(e) + ". Is the host right and the hub running?");
            System.exit(HUB_REFUSED);
            return;
        }

        // 3. Wait for jobs. Ctrl-C ends the JVM; this hook still closes the MQTT connection politely.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> { System.out.println("Shutting down IoT Hub Client"); client.close(); }));
        System.out.println("DeviceClient waiting for commands, press Ctrl-C to exit");
        connectionLostForGood.await(); // the work happens in the callbacks below, on the SDK's threads
        System.exit(HUB_REFUSED);
    }

    static DeviceClient connect(String connectionString) throws IotHubClientException, InterruptedException {
        DeviceClient client = new DeviceClient(connectionString, IotHubClientProtocol.MQTT);
        // Once connected, the SDK reconnects by itself when the connection drops, waiting a little longer after
        // each failed attempt (exponential backoff with jitter, so that a fleet does not reconnect in lockstep),
        // until its operation timeout (4 minutes by default) has passed.
        client.setRetryPolicy(new ExponentialBackoffWithJitter());
        client.setConnectionStatusChangeCallback(SimDevice::onConnectionStatusChange, null);
        client.open(false); // false: no retries for the first connection, so that bad settings fail fast
        return client;
    }

    // Subscriptions survive reconnects, so they are made once, right after opening.
    static void listenForJobs(DeviceClient client) throws IotHubClientException, InterruptedException {
        System.out.println("Beginning to listen for 'lockDoor' direct method invocations...");
        client.subscribeToMethods((methodName, payload, context) -> onMethod(methodName), null);
        System.out.println("Beginning to listen for updates to the Twin desired properties...");
        client.subscribeToDesiredProperties((twin, context) -> onDesiredPropertiesPatch(twin.getDesiredProperties()), null);
    }

    /** The direct method handler: lockDoor succeeds; any other name gets 404, like an unknown HTTP route. */
    static DirectMethodResponse onMethod(String methodName) {
        if ("lockDoor".equals(methodName)) {
            System.out.println("Locking Door!");
            return new DirectMethodResponse(200, Map.of("Response", "lockDoor called successfully"));
        }
        System.out.println("Unknown direct method '" + methodName + "', answering 404");
        return new DirectMethodResponse(404, Map.of("Response", "Unknown method '" + methodName + "'"));
    }

    /** Prints the changed desired properties and the twin's new $version, like the Python sample. */
    static void onDesiredPropertiesPatch(TwinCollection desired) {
        JsonObject patch = desired.toJsonElement().getAsJsonObject();
        patch.addProperty("$version", desired.getVersion());
        System.out.println(System.lineSeparator() + "Twin desired properties patch received:" + System.lineSeparator() + patch);
    }

    /** One plain line per connection change; the SDK's own log stays quiet (see simplelogger.properties). */
    static void onConnectionStatusChange(ConnectionStatusChangeContext change) {
        IotHubConnectionStatusChangeReason reason = change.getNewStatusReason();
        if (change.getNewStatus() == IotHubConnectionStatus.CONNECTED) {
            System.out.println(change.getPreviousStatus() == IotHubConnectionStatus.DISCONNECTED_RETRYING
                    ? "Connection status: reconnected." : "Connection status: connected.");
        } else if (change.getNewStatus() == IotHubConnectionStatus.DISCONNECTED_RETRYING) {
            System.out.println("Connection status: connection lost (" + reason + "), reconnecting...");
        } else if (reason != IotHubConnectionStatusChangeReason.CLIENT_CLOSE) { // not Ctrl-C or a failed start
            System.out.println("Connection status: disconnected for good (" + reason + "). If the hub refuses the device"
                    + " (deleted, disabled, new key), fix the connection string; else restart the app once the hub is back.");
            connectionLostForGood.countDown();
        }
    }

    static String hostName(String connectionString) {
        Matcher hostName = Pattern.compile("(?i)(?:^|;)\\s*HostName\\s*=([^;]*)").matcher(connectionString);
        return hostName.find() ? hostName.group(1).trim() : "(no HostName in the connection string)";
    }

    static String hideKeys(String text) {
        return String.valueOf(text).replaceAll("(?i)(SharedAccessKey|SharedAccessSignature)\\s*=[^;]*", "$1=<hidden>");
    }

    static String rootCause(Throwable e) {
        return e.getCause() == null || e.getCause() == e ? e.toString() : rootCause(e.getCause());
    }
}
