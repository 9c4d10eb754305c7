package io.pgbackup.core;

import java.util.Objects;

/**
 * The one exception type the core throws at callers. Its message is written for the person running
 * the command: it names the problem and, where there is one, the fix. It never carries a password.
 */
public class PgBackupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public PgBackupException(ErrorCode code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code);
    }

    public PgBackupException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code);
    }

    public ErrorCode code() {
        return code;
    }
}
