package io.pgbackup.core.internal.concurrent;

import java.io.IOException;
import java.util.concurrent.ExecutionException;

/** Unwraps an {@link ExecutionException} into what the task threw, so callers report the real failure. */
public final class Futures {
    private Futures() {
    }

    /** What the task threw (the exception itself when it has no cause). */
    public static Throwable cause(ExecutionException e) {
        return e.getCause() == null ? e : e.getCause();
    }

    /** The task's IOException as it was; anything else wrapped in one with its message. */
    public static IOException asIOException(ExecutionException e) {
        Throwable cause = cause(e);
        return cause instanceof IOException io ? io : new IOException(cause.getMessage(), cause);
    }
}
