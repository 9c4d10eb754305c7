package io.pgbackup.core.internal.backup;

/**
 * The server refused UPLOAD_MANIFEST or {@code BASE_BACKUP (INCREMENTAL)} before sending anything
 * (summaries missing or with a gap, summarize_wal turned off since): the backup is retried by page LSNs.
 */
final class SummariesRefused extends RuntimeException {
    SummariesRefused(String serverMessage) {
        super(serverMessage);
    }
}
