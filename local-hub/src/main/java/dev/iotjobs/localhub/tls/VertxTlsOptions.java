package dev.iotjobs.localhub.tls;

import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PfxOptions;

/** The Vert.x side of {@link DevCertificateAuthority}: what a TLS server (MQTT, HTTPS) needs. */
public final class VertxTlsOptions {
    private VertxTlsOptions() {
    }

    /** The server key and chain, for {@code NetServerOptions/HttpServerOptions/MqttServerOptions.setKeyCertOptions}. */
    public static KeyCertOptions serverKeyCertOptions(DevCertificateAuthority ca) {
        return new PfxOptions()
                .setPath(ca.serverKeyStorePath().toAbsolutePath().toString())
                .setPassword(ca.keyStorePassword())
                .setAlias(DevCertificateAuthority.SERVER_ALIAS);
    }
}
