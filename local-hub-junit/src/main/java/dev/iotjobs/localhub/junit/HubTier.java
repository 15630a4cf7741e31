package dev.iotjobs.localhub.junit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Gives a test class using {@link LocalHubExtension} a hub with an IoT Hub tier's quotas and throttles,
 * e.g. {@code @HubTier("S1")} (see docs/local-hub.md, "Tiers"). Classes without it get the untiered hub.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface HubTier {
    /** F1, S1, S2 or S3. */
    String value();

    int units() default 1;

    /**
     * How long an over-limit operation may wait before it is refused, in milliseconds (IoT Hub-like default:
     * 10 s); a short backlog lets a test see refusals without flooding the hub for long.
     */
    long backlogMillis() default 10_000;
}
