package dev.iotjobs.localhub.amqp;

import io.vertx.proton.ProtonLink;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;

/** Link helpers and the AMQP error conditions the hub's endpoints use. */
public final class Links {
    public static final Symbol UNAUTHORIZED = Symbol.valueOf("amqp:unauthorized-access");
    public static final Symbol NOT_FOUND = Symbol.valueOf("amqp:not-found");
    public static final Symbol NOT_IMPLEMENTED = Symbol.valueOf("amqp:not-implemented");
    public static final Symbol NOT_ALLOWED = Symbol.valueOf("amqp:not-allowed");
    public static final Symbol INVALID_FIELD = Symbol.valueOf("amqp:invalid-field");
    public static final Symbol STOLEN = Symbol.valueOf("amqp:link:stolen");
    public static final Symbol RESOURCE_LIMIT = Symbol.valueOf("amqp:resource-limit-exceeded");

    private Links() {
    }

    /**
     * Refuses a remote-initiated link as AMQP does: attach (echoing the peer's source and target, so clients that
     * read a missing source as "still refusing" get the error at once), then detach with the error.
     */
    public static void refuse(ProtonLink<?> link, Symbol condition, String description) {
        link.setSource(link.getRemoteSource());
        link.setTarget(link.getRemoteTarget());
        link.setCondition(new ErrorCondition(condition, description));
        link.open();
        link.close();
    }

    /** Closes an open link with an error (e.g. a receiver whose place a higher epoch took). */
    public static void closeWith(ProtonLink<?> link, Symbol condition, String description) {
        link.setCondition(new ErrorCondition(condition, description));
        link.close();
    }

    /** Accepts a remote-initiated link, echoing its source and target (vertx-proton copies neither). */
    public static <T extends ProtonLink<T>> T accept(T link) {
        link.setSource(link.getRemoteSource());
        link.setTarget(link.getRemoteTarget());
        return link.open();
    }
}
