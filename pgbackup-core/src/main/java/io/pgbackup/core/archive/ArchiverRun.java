package io.pgbackup.core.archive;

/**
 * How one archiver run ended.
 *
 * @param alreadyRunning another archiver held the repository; this one did nothing
 * @param acknowledged   files acknowledged as archived (stored now, or found identical)
 * @param failed         attempts that ended in an error acknowledgement (retried while PostgreSQL retries)
 * @param lastError      the last error's line, empty when none
 */
public record ArchiverRun(boolean alreadyRunning, long acknowledged, long failed, String lastError) {
}
