package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.InternalClient;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.device.ProxySettings;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.transport.IotHubTransportMessage;
import com.microsoft.azure.sdk.iot.device.twin.GetTwinCorrelatingMessageCallback;
import com.microsoft.azure.sdk.iot.device.twin.ReportedPropertiesUpdateCorrelatingMessageCallback;
import com.microsoft.azure.sdk.iot.device.twin.ReportedPropertiesUpdateResponse;
import com.microsoft.azure.sdk.iot.device.twin.Twin;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import dev.iotjobs.fleet.FleetDevices;
import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import org.junit.jupiter.api.Assertions;

import java.net.InetSocketAddress;
import java.net.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Helpers shared by the SDK-driven tests: unique device ids, registration, connected clients. */
final class TestDevices {

    /**
     * Client options for a device of {@code hub}: MQTT_WS and AMQPS_WS dial port 443, which a hub run by a non-root user serves
     * through its CONNECT proxy, and the device SDK takes a proxy only from its own ProxySettings (what a user's
     * code does too, see docs/local-hub.md). Other protocols need nothing.
     */
    static ClientOptions.ClientOptionsBuilder options(LocalHub hub, IotHubClientProtocol protocol) {
        ClientOptions.ClientOptionsBuilder options = ClientOptions.builder();
        boolean webSocket = protocol == IotHubClientProtocol.MQTT_WS || protocol == IotHubClientProtocol.AMQPS_WS;
        if (webSocket && hub.restPort() != HubConfig.DEFAULT_REST_PORT && hub.proxyPort() > 0) {
            options.proxySettings(new ProxySettings(new Proxy(Proxy.Type.HTTP,
                    new InetSocketAddress(WellKnownKeys.HOST_NAME, hub.proxyPort()))));
        }
        return options;
    }

    /** A device client over MQTT over WebSockets that reaches {@code hub} whoever runs it. */
    static DeviceClient webSocketClient(LocalHub hub, String connectionString) {
        return new DeviceClient(connectionString, IotHubClientProtocol.MQTT_WS,
                options(hub, IotHubClientProtocol.MQTT_WS).build());
    }
    private TestDevices() {
    }

    static String uniqueId(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Registers a new SAS device through the unmodified RegistryClient. */
    static Device register(LocalHub hub, String deviceId) throws Exception {
        return new RegistryClient(hub.hubConnectionString()).addDevice(new Device(deviceId));
    }

    static String connectionString(Device device) {
        return "HostName=127.0.0.1;DeviceId=" + device.getDeviceId() + ";SharedAccessKey=" + device.getPrimaryKey();
    }

    /** Registers devices {@code prefix-0..count-1} with the given tags through the bulk registry API. */
    static List<String> bulkRegister(String prefix, int count, ObjectNode tags)
            throws Exception {
        return FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY).bulkCreate(prefix, count, tags).stream()
                .map(FleetSimulator.DeviceCredentials::deviceId).toList();
    }

    /*
     * iot-device-client 2.5.0 (and every later release so far) sometimes never calls onResponseReceived for a twin
     * answer it did receive, so its synchronous getTwin/updateReportedProperties time out: IotHubTransport
     * .onMessageReceived (IotHubTransport.java:332) hands the answer to the receive thread before it looks up the
     * request's correlation callback (line 346), and the receive thread, after acknowledging the answer, removes
     * that callback on a new thread (line 1276). When the MQTT callback thread is descheduled in between, the
     * lookup finds nothing. It happens after the answer has
     * arrived, so no hub timing can prevent it; it hits about one request in a hundred on a busy 2-core machine,
     * against IoT Hub too. onResponseAcknowledged (line 1271) is called before the removal and carries the same
     * answer, so the helpers below complete on whichever of the two comes first: exact, no retries.
     */
    private static final int TWIN_REQUEST_TIMEOUT_SECONDS = 30;

    static Twin getTwin(InternalClient client) throws Exception {
        CompletableFuture<Message> answer = new CompletableFuture<>();
        client.getTwinAsync(new GetTwinCorrelatingMessageCallback() {
            @Override
            public void onRequestQueued(Message m, Object c) {
            }

            @Override
            public void onRequestSent(Message m, Object c) {
            }

            @Override
            public void onRequestAcknowledged(Message m, Object c,
                                              IotHubClientException e) {
                if (e != null) {
                    answer.completeExceptionally(e);
                }
            }

            @Override
            public void onResponseReceived(Twin twin,
                                           Message m, Object c,
                                           IotHubStatusCode status,
                                           IotHubClientException e) {
                answer.complete(m);
            }

            @Override
            public void onResponseAcknowledged(Message m, Object c) {
                answer.complete(m);
            }
        }, null);
        IotHubTransportMessage m = await(answer);
        IotHubStatusCode status = statusOf(m);
        if (status != IotHubStatusCode.OK) {
            throw new IotHubClientException(status, "getTwin answered " + m.getStatus());
        }
        return Twin.createFromPropertiesJson(
                new String(m.getBytes(), StandardCharsets.UTF_8));
    }

    /** Sends a reported patch and returns the new reported version; a refusal is thrown. */
    static long updateReported(InternalClient client, TwinCollection reported,
                               LocalHub hub, String deviceId) throws Exception {
        IotHubTransportMessage m = sendReported(client, reported);
        IotHubStatusCode status = statusOf(m);
        if (status != IotHubStatusCode.OK) {
            throw new IotHubClientException(status, "reported patch answered " + m.getStatus());
        }
        return m.getVersion();
    }

    /** Sends a reported patch the hub must refuse, and returns the refusal. */
    static IotHubClientException updateReportedRefused(
            DeviceClient client, TwinCollection reported) throws Exception {
        IotHubTransportMessage m = sendReported(client, reported);
        IotHubStatusCode status = statusOf(m);
        if (status == IotHubStatusCode.OK) {
            throw new AssertionError("the hub accepted the reported patch");
        }
        return new IotHubClientException(status, "reported patch answered " + m.getStatus());
    }

    private static IotHubTransportMessage sendReported(
            InternalClient client, TwinCollection reported) throws Exception {
        CompletableFuture<Message> answer = new CompletableFuture<>();
        client.updateReportedPropertiesAsync(reported, new ReportedPropertiesUpdateCorrelatingMessageCallback() {
            @Override
            public void onRequestQueued(Message m, Object c) {
            }

            @Override
            public void onRequestSent(Message m, Object c) {
            }

            @Override
            public void onRequestAcknowledged(Message m, Object c,
                                              IotHubClientException e) {
                if (e != null) {
                    answer.completeExceptionally(e);
                }
            }

            @Override
            public void onResponseReceived(Message m, Object c,
                                           IotHubStatusCode status,
                                           ReportedPropertiesUpdateResponse r,
                                           IotHubClientException e) {
                answer.complete(m);
            }

            @Override
            public void onResponseAcknowledged(Message m, Object c) {
                answer.complete(m);
            }
        }, null);
        return await(answer);
    }

    private static IotHubTransportMessage await(
            CompletableFuture<Message> answer) throws Exception {
        try {
            return (IotHubTransportMessage)
                    answer.get(TWIN_REQUEST_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    private static IotHubStatusCode statusOf(
            IotHubTransportMessage m) {
        return IotHubStatusCode.getIotHubStatusCode(Integer.parseInt(m.getStatus()));
    }

    /** An open MQTT DeviceClient for a newly registered device. */
    static DeviceClient connect(Device device) throws Exception {
        DeviceClient client = new DeviceClient(connectionString(device), IotHubClientProtocol.MQTT);
        client.open(false);
        return client;
    }

    /** Opening an MQTT DeviceClient with this connection string is refused as unauthorized (CONNACK 5). */
    static void assertConnectRefused(String deviceConnectionString) throws Exception {
        DeviceClient client = new DeviceClient(deviceConnectionString, IotHubClientProtocol.MQTT);
        try {
            IotHubClientException e = Assertions.assertThrows(
                    IotHubClientException.class, () -> client.open(false));
            Assertions.assertEquals(IotHubStatusCode.UNAUTHORIZED,
                    e.getStatusCode());
        } finally {
            client.close();
        }
    }
}
