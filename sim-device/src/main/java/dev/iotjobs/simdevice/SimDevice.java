package dev.iotjobs.simdevice;

import com.google.gson.JsonObject;
import com.microsoft.azure.sdk.iot.device.ConnectionStatusChangeContext;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubConnectionStatusChangeReason;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.transport.ExponentialBackoffWithJitter;
import com.microsoft.azure.sdk.iot.device.transport.IotHubConnectionStatus;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import dev.iotjobs.localhub.LocalHubTrust;
import dev.iotjobs.localhub.config.WellKnownKeys;

import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The simulated device of the "Schedule and broadcast jobs" tutorial.
 * <p>
 * It answers the direct method {@code lockDoor} and prints every desired-property patch the hub sends, which
 * is exactly what the two jobs of {@code ScheduleJobService} do to it. Run it first and leave it running.
 * <pre>
 *   mvn -pl sim-device exec:java                                  (the local hub's default device)
 *   IOTHUB_DEVICE_CONNECTION_STRING='HostName=...' mvn -pl sim-device exec:java
 * </pre>
 */
public final class SimDevice {
    static final String CONNECTION_STRING_VARIABLE = "IOTHUB_DEVICE_CONNECTION_STRING";
    static final String USAGE = "Usage: SimDevice [device-connection-string]  (or set " + CONNECTION_STRING_VARIABLE
            + "; with neither, the local hub's default device is used)";

    private SimDevice() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.out.println("Starting the IoT Hub Java jobs sample (simulated device)...");
        String connectionString = connectionString(args, System.getenv());

        DeviceClient client;
        try {
            client = start(connectionString, System.out);
        } catch (IotHubClientException | IllegalArgumentException | IllegalStateException e) {
            System.out.println("Could not connect: " + e.getMessage());
            System.out.println(USAGE);
            System.exit(1);
            return;
        }

        // Ctrl-C ends the JVM; this hook still gets to close the MQTT connection politely.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(client, System.out)));
        System.out.println("DeviceClient waiting for commands, press Ctrl-C to exit");
        new CountDownLatch(1).await(); // all the work happens on the SDK's threads, in the callbacks below
    }

    /**
     * Connects the device and subscribes to direct methods and desired properties.
     * Returns the open client; whoever called this closes it (see {@link #stop}).
     */
    public static DeviceClient start(String connectionString, PrintStream out)
            throws IotHubClientException, InterruptedException {
        // LOCAL HUB ONLY: trusts the local hub's development certificate; against an Azure hub it does nothing.
        LocalHubTrust.trustLocalHubIfTargeted(connectionString);

        DeviceClient client = new DeviceClient(connectionString, IotHubClientProtocol.MQTT);

        // When the connection drops, the SDK reconnects by itself, waiting a little longer after each failed
        // attempt (exponential backoff with jitter, so a fleet of devices does not reconnect in lockstep).
        // The callback below only tells the reader what is going on.
        client.setRetryPolicy(new ExponentialBackoffWithJitter());
        client.setConnectionStatusChangeCallback(change -> out.println(describe(change)), null);

        // open(true) applies the same retry policy to the first connection, so starting the device a few
        // seconds before the hub is fine.
        try {
            client.open(true);
            out.println("Beginning to listen for 'lockDoor' direct method invocations...");
            client.subscribeToMethods((methodName, payload, context) -> onMethod(methodName, out), null);

            // Subscriptions survive reconnects, so this is done once, right after opening.
            out.println("Beginning to listen for updates to the Twin desired properties...");
            client.subscribeToDesiredProperties(
                    (twin, context) -> out.println(describePatch(twin.getDesiredProperties())), null);
        } catch (IotHubClientException | InterruptedException | RuntimeException e) {
            client.close(); // don't leave a half-open connection behind
            throw e;
        }
        return client;
    }

    /** Closes the client; safe to call from a shutdown hook. */
    public static void stop(DeviceClient client, PrintStream out) {
        out.println("Shutting down IoT Hub Client");
        client.close();
    }

    /** The direct method handler: lockDoor succeeds, any other name gets 404 like an unknown HTTP route. */
    static DirectMethodResponse onMethod(String methodName, PrintStream out) {
        if ("lockDoor".equals(methodName)) {
            out.println("Locking Door!");
            return new DirectMethodResponse(200, Map.of("Response", "lockDoor called successfully"));
        }
        out.println("Unknown direct method '" + methodName + "', answering 404");
        return new DirectMethodResponse(404, Map.of("Response", "Unknown method '" + methodName + "'"));
    }

    /** Prints a patch like the Python sample does: the changed properties plus the twin's new $version. */
    static String describePatch(TwinCollection desired) {
        JsonObject patch = desired.toJsonElement().getAsJsonObject();
        if (desired.getVersion() != null) {
            patch.addProperty("$version", desired.getVersion());
        }
        return System.lineSeparator() + "Twin desired properties patch received:" + System.lineSeparator() + patch;
    }

    /** Turns a connection status change into one plain-English console line. */
    static String describe(ConnectionStatusChangeContext change) {
        return describe(change.getNewStatus(), change.getPreviousStatus(), change.getNewStatusReason());
    }

    static String describe(IotHubConnectionStatus status, IotHubConnectionStatus previous,
                           IotHubConnectionStatusChangeReason reason) {
        switch (status) {
            case CONNECTED:
                return previous == IotHubConnectionStatus.DISCONNECTED_RETRYING
                        ? "Connection status: reconnected to the hub." : "Connection status: connected to the hub.";
            case DISCONNECTED_RETRYING:
                return "Connection status: connection lost (" + reason + "), reconnecting with exponential backoff...";
            default:
                if (reason == IotHubConnectionStatusChangeReason.CLIENT_CLOSE) {
                    return "Connection status: disconnected (closed by this app).";
                }
                if (reason == IotHubConnectionStatusChangeReason.RETRY_EXPIRED) {
                    return "Connection status: disconnected; the SDK stopped retrying. Restart the app once the hub is back.";
                }
                if (reason == IotHubConnectionStatusChangeReason.BAD_CREDENTIAL
                        || reason == IotHubConnectionStatusChangeReason.EXPIRED_SAS_TOKEN) {
                    return "Connection status: the hub rejected the device's credentials; check the connection string.";
                }
                return "Connection status: disconnected (" + reason + ").";
        }
    }

    /** The first argument wins, then the environment variable, then the local hub's default device. */
    static String connectionString(String[] args, Map<String, String> env) {
        if (args.length > 0 && !args[0].isBlank()) {
            return args[0].trim();
        }
        String fromEnv = env.get(CONNECTION_STRING_VARIABLE);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv.trim();
        }
        return WellKnownKeys.DEVICE_CONNECTION_STRING;
    }
}
