package dev.iotjobs.localhub.edge;

/** A connection's credentials were refused; the message says why (logged, never sent to the device). */
public final class EdgeRefusedException extends Exception {
    public EdgeRefusedException(String reason) {
        super(reason, null, false, false);
    }
}
