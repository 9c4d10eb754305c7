package io.pgbackup.core.internal.postgres.replication;

import java.io.IOException;
import java.util.Optional;

/**
 * An error the server reported (ErrorResponse). The message is the server's
 * {@code SEVERITY: message}, with its DETAIL and HINT, on one line.
 */
public final class ReplicationException extends IOException {
    private final String sqlState;

    ReplicationException(String message, String sqlState) {
        super(message);
        this.sqlState = sqlState;
    }

    /** The SQLSTATE code, e.g. {@code 28P01} for a wrong password. */
    public Optional<String> sqlState() {
        return Optional.ofNullable(sqlState);
    }
}
