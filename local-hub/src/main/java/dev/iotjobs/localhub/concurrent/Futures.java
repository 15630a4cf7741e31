package dev.iotjobs.localhub.concurrent;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** What the hub does with failed futures, in one place. */
public final class Futures {
    private Futures() {
    }

    /**
     * The failure itself: {@code CompletableFuture} wraps what a stage threw in a {@link CompletionException}
     * (and {@code get()} in an {@link ExecutionException}) when it passes it on, and callers map the cause.
     */
    public static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** The unwrapped failure, to rethrow: itself when unchecked, else wrapped in an IllegalStateException. */
    public static RuntimeException rethrowable(Throwable failure) {
        Throwable cause = unwrap(failure);
        return cause instanceof RuntimeException r ? r : new IllegalStateException(cause.getMessage(), cause);
    }
}
