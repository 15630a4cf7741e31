package dev.iotjobs.localhub.telemetry;

import dev.iotjobs.localhub.model.IdentityKey;

import java.time.Instant;
import java.util.Map;

/**
 * One device-to-cloud message as a transport accepted it, before IoT Hub's stamps are added: what the device
 * sent (body, application properties, system properties) and who sent it. Transport-neutral: the MQTT adapter
 * fills it from the topic's property bag, the AMQP adapter from the message's properties and annotations.
 *
 * @param identity             the authenticated device or module that sent it
 * @param body                 the body bytes, unchanged
 * @param applicationProperties the device's application properties, in the order sent
 * @param messageId            system property message-id, or null
 * @param correlationId        system property correlation-id, or null
 * @param contentType          system property content-type, or null
 * @param contentEncoding      system property content-encoding, or null
 * @param creationTime         the device's creation time (iothub-creation-time-utc), or null
 * @param componentName        the Plug and Play component (dt-subject), or null
 * @param authMethod           how the connection authenticated: {@code sas}, {@code selfSigned} or {@code certificateAuthority}
 * @param authGenerationId     the identity's generation id (iothub-connection-auth-generation-id)
 */
public record TelemetryMessage(
        IdentityKey identity,
        byte[] body,
        Map<String, String> applicationProperties,
        String messageId,
        String correlationId,
        String contentType,
        String contentEncoding,
        Instant creationTime,
        String componentName,
        String authMethod,
        String authGenerationId) {
}
