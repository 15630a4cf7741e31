package dev.iotjobs.localhub.model;

/**
 * IoT Hub error codes the local hub answers with: the HTTP status and the numeric code
 * (status x 1000 + detail) that the SDKs read from the error body.
 */
public enum ErrorCode {
    GENERIC_BAD_REQUEST(400, 400000, "GenericBadRequest"),
    INVALID_PROTOCOL_VERSION(400, 400001, "InvalidProtocolVersion"),
    ARGUMENT_INVALID(400, 400004, "ArgumentInvalid"),
    ARGUMENT_NULL(400, 400005, "ArgumentNull"),
    IOTHUB_FORMAT_ERROR(400, 400006, "IotHubFormatError"),
    UNAUTHORIZED(401, 401002, "IotHubUnauthorizedAccess"),
    NOT_FOUND(404, 404000, "GenericNotFound"),
    DEVICE_NOT_FOUND(404, 404001, "DeviceNotFound"),
    JOB_NOT_FOUND(404, 404002, "JobNotFound"),
    MODULE_NOT_FOUND(404, 404010, "ModuleNotFound"),
    DEVICE_NOT_ONLINE(404, 404103, "DeviceNotOnline"),
    METHOD_NOT_ALLOWED(405, 405000, "GenericMethodNotAllowed"),
    DEVICE_ALREADY_EXISTS(409, 409001, "DeviceAlreadyExists"),
    JOB_ALREADY_EXISTS(409, 409104, "JobAlreadyExists"),
    MODULE_ALREADY_EXISTS(409, 409301, "ModuleAlreadyExistsOnDevice"),
    /** The request's headers or body did not arrive in time (the HTTP layer's refusal; code chosen by us). */
    REQUEST_TIMEOUT(408, 408000, "RequestTimeout"),
    PRECONDITION_FAILED(412, 412001, "PreconditionFailed"),
    MESSAGE_TOO_LARGE(413, 413001, "MessageTooLarge"),
    /** Request line over the HTTP layer's limit (code chosen by us, in the status's family). */
    REQUEST_URI_TOO_LONG(414, 414000, "RequestUriTooLong"),
    /** Request headers over the HTTP layer's limit (code chosen by us, in the status's family). */
    REQUEST_HEADERS_TOO_LARGE(431, 431000, "RequestHeaderFieldsTooLarge"),
    THROTTLING(429, 429001, "ThrottlingException"),
    /** A device's telemetry found the traffic-shaping backlog full (IoT Hub then closes an MQTT connection). */
    THROTTLE_BACKLOG_LIMIT_EXCEEDED(429, 429002, "ThrottleBacklogLimitExceeded"),
    MAX_ACTIVE_JOBS(429, 429004, "ThrottlingMaxActiveJobCountExceeded"),
    SERVER_ERROR(500, 500001, "ServerError"),
    /** The hub holds as many connections as it accepts on an endpoint (HubLimits); transient, as IoT Hub's. */
    SERVER_BUSY(503, 503005, "ServerBusy"),
    GATEWAY_TIMEOUT(504, 504101, "GatewayTimeout"),
    /** An identity appears more than once in one bulk registry request. */
    DEVICE_DEFINED_MULTIPLE_TIMES(400, 400011, "DeviceDefinedMultipleTimes"),
    /** A bulk registry request with a failed entry (the iothub-errorcode of its 400 answer). */
    BULK_REGISTRY_OPERATION_FAILURE(400, 400013, "BulkRegistryOperationFailure"),
    /** A device's cloud-to-device queue holds its 50 messages (IoT Hub's per-device limit). */
    DEVICE_MAXIMUM_QUEUE_DEPTH_EXCEEDED(403, 403004, "DeviceMaximumQueueDepthExceeded"),
    /** A cloud-to-device message was completed, abandoned or rejected after its lock had been lost. */
    DEVICE_MESSAGE_LOCK_LOST(412, 412002, "DeviceMessageLockLost"),
    /** The hub's daily message quota is used up (only with a tier, see HubConfig#tier). */
    IOTHUB_QUOTA_EXCEEDED(403, 403002, "IotHubQuotaExceeded");

    private final int httpStatus;
    private final int code;
    private final String codeName;

    ErrorCode(int httpStatus, int code, String codeName) {
        this.httpStatus = httpStatus;
        this.code = code;
        this.codeName = codeName;
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** Numeric code, e.g. 404001. */
    public int code() {
        return code;
    }

    /** Symbolic name, e.g. DeviceNotFound (sent in the iothub-errorcode header). */
    public String codeName() {
        return codeName;
    }

    public HubException exception(String message) {
        return new HubException(this, message);
    }
}
