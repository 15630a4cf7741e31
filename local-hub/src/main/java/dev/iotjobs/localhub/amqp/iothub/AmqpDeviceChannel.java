package dev.iotjobs.localhub.amqp.iothub;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.model.IdentityKey;
import io.vertx.proton.ProtonLink;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One device or module on one AMQP connection: its twin, methods and cloud-to-device links. Fields are written
 * on the connection's event loop; the core's calls ({@link #sendMethod}, desired notifications) hop onto it.
 */
final class AmqpDeviceChannel {
    static final String METHOD_NAME = "IoThub-methodname";
    static final String METHOD_STATUS = "IoThub-status";

    final IdentityKey identity;
    final IotHubAmqpConnection connection;
    volatile ProtonSender twinSender;
    volatile boolean desiredSubscribed;
    volatile ProtonSender methodRequests;
    volatile ProtonReceiver methodAnswers;
    volatile ProtonSender cloudToDevice;
    /** Method requests sent and not answered yet, by request id (the AMQP correlation id, a UUID). */
    final Map<UUID, CompletableFuture<MethodResponse>> pendingMethods = new ConcurrentHashMap<>();
    private final List<ProtonLink<?>> links = new ArrayList<>();

    AmqpDeviceChannel(IdentityKey identity, IotHubAmqpConnection connection) {
        this.identity = identity;
        this.connection = connection;
    }

    void added(ProtonLink<?> link) {
        links.add(link);
    }

    boolean methodReady() {
        ProtonSender requests = methodRequests;
        ProtonReceiver answers = methodAnswers;
        return requests != null && answers != null && !connection.isClosed();
    }

    void sendTwin(Message message) {
        ProtonSender sender = twinSender;
        if (sender != null && sender.isOpen()) {
            sender.send(message);
        }
    }

    /** From any thread: sends a desired notification if the device subscribed. */
    void notifyDesired(Message notification) {
        connection.context().runOnContext(v -> {
            if (desiredSubscribed) {
                sendTwin(notification);
            }
        });
    }

    /** From any thread: sends a method request; the future completes with the device's answer. */
    CompletableFuture<MethodResponse> sendMethod(String methodName, String payloadJson) {
        CompletableFuture<MethodResponse> answer = new CompletableFuture<>();
        UUID requestId = UUID.randomUUID();
        pendingMethods.put(requestId, answer);
        answer.whenComplete((r, e) -> pendingMethods.remove(requestId));
        connection.context().runOnContext(v -> {
            ProtonSender sender = methodRequests;
            if (sender == null || !sender.isOpen() || connection.isClosed()) {
                answer.cancel(false);
                return;
            }
            Message request = Message.Factory.create();
            request.setMessageId(requestId.toString());
            request.setCorrelationId(requestId); // an AMQP uuid: the Java SDK builds its answer with UUID.fromString
            request.setApplicationProperties(new ApplicationProperties(Map.of(METHOD_NAME, methodName)));
            request.setBody(new Data(new Binary(payloadJson.getBytes(StandardCharsets.UTF_8))));
            sender.send(request);
        });
        return answer;
    }

    void onMethodAnswer(Message answer) {
        Object id = answer.getCorrelationId();
        UUID requestId;
        try {
            requestId = id instanceof UUID u ? u : id == null ? null : UUID.fromString(id.toString());
        } catch (IllegalArgumentException e) {
            requestId = null;
        }
        CompletableFuture<MethodResponse> pending = requestId == null ? null : pendingMethods.get(requestId);
        if (pending == null) {
            return; // late (timed out) or unknown answer: dropped, as IoT Hub does
        }
        Object status = answer.getApplicationProperties() == null ? null
                : answer.getApplicationProperties().getValue().get(METHOD_STATUS);
        int code;
        try {
            code = status == null ? 200 : Integer.parseInt(status.toString());
        } catch (NumberFormatException e) {
            code = 500;
        }
        byte[] body = AmqpBodies.bytes(answer);
        JsonNode payload;
        try {
            payload = body.length == 0 ? Json.NODES.nullNode() : Json.MAPPER.readTree(body);
        } catch (IOException e) {
            payload = Json.NODES.textNode(new String(body, StandardCharsets.UTF_8));
        }
        pending.complete(new MethodResponse(code, payload));
    }

    void openCloudToDevice(ProtonSender sender) {
        cloudToDevice = sender;
    }

    void linkEnded(ProtonLink<?> link) {
        links.remove(link);
        if (link == twinSender) {
            twinSender = null;
            desiredSubscribed = false;
        }
        if (link == methodRequests) {
            methodRequests = null;
        }
        if (link == methodAnswers) {
            methodAnswers = null;
        }
        if (link == cloudToDevice) {
            cloudToDevice = null;
        }
        if (methodRequests == null || methodAnswers == null) {
            pendingMethods.values().forEach(f -> f.cancel(false));
        }
    }

    /** Another connection took this identity over: IoT Hub detaches the older links with {@code amqp:link:stolen}. */
    void steal() {
        connection.context().runOnContext(v -> {
            for (ProtonLink<?> link : List.copyOf(links)) {
                link.setCondition(new ErrorCondition(AmqpErrors.LINK_STOLEN, "Device " + identity
                        + " opened a newer connection; this link was closed."));
                link.close();
            }
            links.clear();
        });
    }

    void closed() {
        pendingMethods.values().forEach(f -> f.cancel(false));
    }
}
