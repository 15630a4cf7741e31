package dev.iotjobs.localhub.fault;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.HubLimits;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A hub of a test's own, in memory on free ports, for limits too small for the shared hub (the SDKs need 443
 * and 8883; these tests speak raw HTTPS and MQTT and go wherever the hub listens).
 */
final class OwnHub {
    private OwnHub() {
    }

    /** One data directory for all of them: the development CA is generated once (RSA keys take seconds). */
    private static Path directory;

    static synchronized LocalHub start(HubLimits limits) {
        try {
            if (directory == null) {
                directory = Files.createTempDirectory("local-iothub-fault");
            }
            return LocalHub.start(HubConfig.builder().dataDirectory(directory)
                    .inMemory(true).mqttPort(0).restPort(0).limits(limits).build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
