package dev.iotjobs.localhub.eventhubs;

import dev.iotjobs.localhub.telemetry.DevicePropertyBag;
import dev.iotjobs.localhub.telemetry.TelemetryEvent;
import dev.iotjobs.localhub.telemetry.TelemetryMessage;
import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.message.Message;

import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A telemetry event as IoT Hub's built-in endpoint delivers it: the device's body as a Data section, its system
 * properties as AMQP properties, its application properties unchanged, and as message annotations the Event Hubs
 * position ({@code x-opt-sequence-number} long, {@code x-opt-offset} string, {@code x-opt-enqueued-time} timestamp)
 * and IoT Hub's stamps ({@code iothub-connection-device-id}, {@code iothub-connection-module-id} for a module,
 * {@code iothub-connection-auth-method}, {@code iothub-connection-auth-generation-id}, {@code iothub-enqueuedtime},
 * {@code iothub-message-source}, and {@code dt-subject} for a component) — IoT Hub's "Create and read IoT Hub
 * messages" page lists them.
 */
final class EventMessages {
    static final Symbol SEQUENCE_NUMBER = Symbol.valueOf("x-opt-sequence-number");
    static final Symbol OFFSET = Symbol.valueOf("x-opt-offset");
    static final Symbol ENQUEUED_TIME = Symbol.valueOf("x-opt-enqueued-time");
    static final Symbol DEVICE_ID = Symbol.valueOf("iothub-connection-device-id");
    static final Symbol MODULE_ID = Symbol.valueOf("iothub-connection-module-id");
    static final Symbol AUTH_METHOD = Symbol.valueOf("iothub-connection-auth-method");
    static final Symbol AUTH_GENERATION_ID = Symbol.valueOf("iothub-connection-auth-generation-id");
    static final Symbol HUB_ENQUEUED_TIME = Symbol.valueOf("iothub-enqueuedtime");
    static final Symbol MESSAGE_SOURCE = Symbol.valueOf("iothub-message-source");
    static final Symbol COMPONENT = Symbol.valueOf("dt-subject");

    private EventMessages() {
    }

    static Message of(TelemetryEvent event) {
        TelemetryMessage m = event.message();
        Message message = Proton.message();
        message.setBody(new Data(new Binary(m.body())));
        if (m.messageId() != null) {
            message.setMessageId(m.messageId());
        }
        if (m.correlationId() != null) {
            message.setCorrelationId(m.correlationId());
        }
        if (m.contentType() != null) {
            message.setContentType(m.contentType());
        }
        if (m.contentEncoding() != null) {
            message.setContentEncoding(m.contentEncoding());
        }
        Map<String, Object> app = new LinkedHashMap<>(m.applicationProperties());
        if (m.creationTime() != null) {
            app.put(DevicePropertyBag.CREATION_TIME_PROPERTY, m.creationTime().toString());
        }
        if (!app.isEmpty()) {
            message.setApplicationProperties(new ApplicationProperties(app));
        }
        Date enqueued = Date.from(event.enqueuedTime());
        Map<Symbol, Object> annotations = new HashMap<>();
        annotations.put(SEQUENCE_NUMBER, event.sequenceNumber());
        annotations.put(OFFSET, event.offset());
        annotations.put(ENQUEUED_TIME, enqueued);
        annotations.put(DEVICE_ID, m.identity().deviceId());
        if (m.identity().moduleId() != null) {
            annotations.put(MODULE_ID, m.identity().moduleId());
        }
        annotations.put(AUTH_METHOD, authMethod(m));
        if (m.authGenerationId() != null) {
            annotations.put(AUTH_GENERATION_ID, m.authGenerationId());
        }
        annotations.put(HUB_ENQUEUED_TIME, enqueued);
        annotations.put(MESSAGE_SOURCE, TelemetryEvent.SOURCE_TELEMETRY);
        if (m.componentName() != null) {
            annotations.put(COMPONENT, m.componentName());
        }
        message.setMessageAnnotations(new MessageAnnotations(annotations));
        return message;
    }

    /** IoT Hub's JSON text: {@code {"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}}. */
    static String authMethod(TelemetryMessage m) {
        String type = m.authMethod() == null ? "sas" : m.authMethod();
        String scope = m.identity().isModule() ? "module" : "device";
        String issuer = "certificateAuthority".equals(type) ? "external" : "iothub";
        return "{\"scope\":\"" + scope + "\",\"type\":\"" + type + "\",\"issuer\":\"" + issuer
                + "\",\"acceptingIpFilterRule\":null}";
    }
}
