package io.pgbackup.core;

/**
 * What went wrong, in a form a caller can branch on. The CLI maps {@link #isUsageError()} to exit
 * code 2 and everything else to 1.
 */
public enum ErrorCode {
    /** A setting or argument is missing or malformed: the user must change the command. */
    INVALID_CONFIG(true),
    /** An argument names something that is not there (an unknown backup id). */
    INVALID_ARGUMENT(true),
    /** Another pgbackup process holds the repository lock. */
    LOCKED(false),
    /** PostgreSQL could not be reached or refused the connection. */
    CONNECTION_FAILED(false),
    /** An external program (pg_basebackup, rsync, ...) is missing or failed. */
    EXTERNAL_TOOL_FAILED(false),
    /** The repository holds something inconsistent with the request (another cluster's backups). */
    REPOSITORY_CONFLICT(false),
    /** A safety check refused the operation; nothing was changed. */
    REFUSED(false),
    /** Data failed verification: checksum mismatch, truncated archive, missing WAL. */
    VERIFICATION_FAILED(false),
    /** Reading or writing local files failed (disk full, permissions). */
    IO_FAILED(false);

    private final boolean usageError;

    ErrorCode(boolean usageError) {
        this.usageError = usageError;
    }

    public boolean isUsageError() {
        return usageError;
    }
}
