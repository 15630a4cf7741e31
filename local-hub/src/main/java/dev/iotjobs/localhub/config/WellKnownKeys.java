package dev.iotjobs.localhub.config;

/**
 * The local hub's documented, well-known development credentials (like Azurite's default account key).
 * They are public on purpose: never use them for anything but a local development hub.
 */
public final class WellKnownKeys {
    private WellKnownKeys() {
    }

    /** Host name both SDKs accept for a loopback hub (the device SDK needs a dot in it). */
    public static final String HOST_NAME = "127.0.0.1";

    public static final String IOTHUBOWNER_KEY = "txtOPu7fBNKxqoGAnXmO+uvfmnKzRIeoLvOOThYPzAU=";
    public static final String SERVICE_KEY = "1vrf6eBBQJuQFIU8AuP5+sqD5FzIng+YCE3c0nQ7pLw=";
    public static final String REGISTRY_READ_KEY = "KRcRDuOHdATE7Vydsrb41DA0zJmDrkmEmzGCUhnRNQ8=";
    public static final String REGISTRY_READ_WRITE_KEY = "xhTJFayJhOQFUX5J6eIzkVhNv+dslCYd5Aq5Gm/+RKw=";
    /** The {@code device} policy (DeviceConnect): a token service signs device tokens with it. */
    public static final String DEVICE_POLICY_KEY = "NkxnS1Bv5wA52CIeKoLsxf6IS2Ri3bPnA/+tg3QVFPI=";

    /** The device registered on every new hub, so the tutorial runs with zero configuration. */
    public static final String DEFAULT_DEVICE_ID = "myDeviceId";
    public static final String DEFAULT_DEVICE_PRIMARY_KEY = "4Hs98OoVMA5A/ZR32AbFcYM2ecP/JBopT6SqoPpdE6k=";
    public static final String DEFAULT_DEVICE_SECONDARY_KEY = "pUjBFzNm3fPjGfn3eUaX6YE6M5IfsWHuTfM+o5gGq+Y=";

    /** Password of the PKCS#12 trust store the hub writes for clients (it holds only a public CA certificate). */
    public static final String TRUST_STORE_PASSWORD = "localhub";

    public static final String HUB_CONNECTION_STRING =
            "HostName=" + HOST_NAME + ";SharedAccessKeyName=iothubowner;SharedAccessKey=" + IOTHUBOWNER_KEY;

    public static final String DEVICE_CONNECTION_STRING =
            "HostName=" + HOST_NAME + ";DeviceId=" + DEFAULT_DEVICE_ID + ";SharedAccessKey=" + DEFAULT_DEVICE_PRIMARY_KEY;
}
