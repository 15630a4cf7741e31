package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.model.IdentityKey;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The addresses the SDKs attach to, as the hub routes them. */
class LinkAddressTest {

    private static void assertRoute(String address, LinkAddress.Kind kind, IdentityKey identity) {
        LinkAddress parsed = LinkAddress.parse(address);
        assertEquals(kind, parsed.kind(), address);
        assertEquals(identity, parsed.identity(), address);
    }

    @Test
    void deviceAndModuleLinks() {
        IdentityKey d = IdentityKey.device("dev-1");
        IdentityKey m = IdentityKey.module("dev-1", "mod-a");
        assertRoute("/devices/dev-1/messages/events", LinkAddress.Kind.TELEMETRY, d);
        assertRoute("/devices/dev-1/messages/devicebound", LinkAddress.Kind.DEVICE_BOUND, d);
        assertRoute("/devices/dev-1/twin", LinkAddress.Kind.TWIN, d);
        assertRoute("/devices/dev-1/methods/devicebound", LinkAddress.Kind.METHODS, d);
        assertRoute("/devices/dev-1/modules/mod-a/messages/events", LinkAddress.Kind.TELEMETRY, m);
        assertRoute("/devices/dev-1/modules/mod-a/twin", LinkAddress.Kind.TWIN, m);
        assertRoute("/devices/dev-1/modules/mod-a/methods/devicebound", LinkAddress.Kind.METHODS, m);
        assertRoute("amqps://127.0.0.1/devices/dev-1/twin", LinkAddress.Kind.TWIN, d);
    }

    @Test
    void percentEncodedIdsAreDecoded_asTheNodeServiceSdkSendsThem() {
        assertRoute("/devices/a%20b%2Fc/messages/devicebound", LinkAddress.Kind.DEVICE_BOUND, IdentityKey.device("a b/c"));
        assertRoute("/devices/a%zz/twin", LinkAddress.Kind.UNKNOWN, null);
    }

    @Test
    void serviceLinks_matchedCaseInsensitively() {
        assertRoute("$cbs", LinkAddress.Kind.CBS, null);
        assertRoute("/messages/devicebound", LinkAddress.Kind.SERVICE_C2D, null);
        assertRoute("/messages/serviceBound/feedback", LinkAddress.Kind.FEEDBACK, null);
        assertRoute("/messages/servicebound/feedback", LinkAddress.Kind.FEEDBACK, null); // the Java service SDK
        assertRoute("/messages/serviceBound/filenotifications", LinkAddress.Kind.FILE_NOTIFICATIONS, null);
    }

    @Test
    void anythingElseIsUnknown() {
        for (String address : new String[]{null, "", "/", "/devices", "/devices//twin", "/devices/d", "/devices/d/other",
                "/devices/d/modules//twin", "/devices/d/messages/events/extra", "cbs", "/messages/serviceBound/other"}) {
            assertEquals(LinkAddress.Kind.UNKNOWN, LinkAddress.parse(address).kind(), String.valueOf(address));
            assertNull(LinkAddress.parse(address).identity());
        }
    }
}
