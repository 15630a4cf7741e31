package dev.iotjobs.localhub.edge;

import dev.iotjobs.localhub.model.IdentityKey;

import java.security.cert.X509Certificate;

/**
 * What a connection presents to authenticate as an identity: a SAS token (MQTT password, AMQP CBS token), or a
 * TLS client certificate chain (X.509), or both (the certificate wins, as on IoT Hub).
 *
 * @param sasToken         or null
 * @param certificateChain or null
 */
public record EdgeCredentials(IdentityKey identity, String sasToken, X509Certificate[] certificateChain) {
}
