package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.model.HubException;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.transport.AmqpError;

/**
 * IoT Hub's error codes as AMQP error conditions, as the hub puts them in a Rejected outcome or a detach (the
 * conditions the device and service SDKs translate back: throttling to THROTTLED, size to REQUEST_ENTITY_TOO_LARGE,
 * quota and queue depth to resource-limit-exceeded, unknown identities to not-found).
 */
final class AmqpErrors {
    static final Symbol MESSAGE_SIZE_EXCEEDED = Symbol.valueOf("amqp:link:message-size-exceeded");
    static final Symbol THROTTLED = Symbol.valueOf("com.microsoft:device-container-throttled");
    static final Symbol LINK_STOLEN = Symbol.valueOf("amqp:link:stolen");
    static final Symbol TRACKING_ID = Symbol.valueOf("com.microsoft:tracking-id");
    static final Symbol ERROR_CODE = Symbol.valueOf("com.microsoft:error-code");

    private AmqpErrors() {
    }

    static Symbol condition(HubException e) {
        int status = e.errorCode().httpStatus();
        int code = e.errorCode().code();
        if (code == 413001 || status == 413) {
            return MESSAGE_SIZE_EXCEEDED;
        }
        return switch (status) {
            case 400 -> AmqpError.INVALID_FIELD;
            case 401 -> AmqpError.UNAUTHORIZED_ACCESS;
            case 403 -> AmqpError.RESOURCE_LIMIT_EXCEEDED;
            case 404 -> AmqpError.NOT_FOUND;
            case 405 -> AmqpError.NOT_ALLOWED;
            case 409 -> AmqpError.NOT_ALLOWED;
            case 412 -> AmqpError.PRECONDITION_FAILED;
            case 429 -> THROTTLED;
            default -> AmqpError.INTERNAL_ERROR;
        };
    }
}
