package dev.iotjobs.localhub.junit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Gives a test class using {@link LocalHubExtension} a hub whose cloud-to-device lock (how long a message handed to
 * a device stays Invisible before it is enqueued again; IoT Hub: 60 s, not configurable) is {@link #millis()}, so a
 * test can wait for a lock to expire. Like {@link HubTier}, the JVM's hub is restarted (in memory) for such a class.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface HubC2dLock {
    long millis();
}
