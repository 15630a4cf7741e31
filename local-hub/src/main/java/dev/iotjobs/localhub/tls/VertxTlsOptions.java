package dev.iotjobs.localhub.tls;

import dev.iotjobs.localhub.config.HubConfig.TlsEngine;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;

/** The Vert.x side of {@link DevCertificateAuthority}: what a TLS server (MQTT, HTTPS) needs. */
public final class VertxTlsOptions {
    private VertxTlsOptions() {
    }

    /**
     * The server key and chain, for {@code NetServerOptions/HttpServerOptions/MqttServerOptions.setKeyCertOptions}:
     * the key already decrypted by {@code ca} ({@code server.p12} holds only it), so that a listener does not read
     * and decrypt the file again (tens of milliseconds of PBKDF2 each, on every start).
     */
    public static KeyCertOptions serverKeyCertOptions(DevCertificateAuthority ca) {
        return KeyCertOptions.wrap(ca.serverKeyManagerFactory());
    }

    /**
     * The TLS engine for the hub's listeners: BoringSSL (netty-tcnative)
     * where its native library loads, else the JDK's. A TLS record costs several times less CPU with
     * BoringSSL, and a job fanning out to thousands of connected devices writes one record per device.
     * {@link TlsEngine#JDK} forces the JDK's engine (for comparison or troubleshooting).
     */
    public static SSLEngineOptions engine(TlsEngine wanted) {
        return wanted != TlsEngine.JDK && OpenSSLEngineOptions.isAvailable() ? new OpenSSLEngineOptions() : new JdkSSLEngineOptions();
    }

    /** "BoringSSL" or "JDK": which engine {@link #engine} picks, for the start-up banner. */
    public static String engineName(TlsEngine wanted) {
        return engine(wanted) instanceof OpenSSLEngineOptions ? "BoringSSL" : "JDK";
    }
}
