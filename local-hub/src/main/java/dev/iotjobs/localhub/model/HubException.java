package dev.iotjobs.localhub.model;

/** The one error type of the hub core; each protocol adapter maps it once to its wire form. */
public final class HubException extends RuntimeException {
    private final ErrorCode errorCode;

    public HubException(ErrorCode errorCode, String message) {
        super(message, null, false, false);
        this.errorCode = errorCode;
    }

    public ErrorCode errorCode() {
        return errorCode;
    }
}
