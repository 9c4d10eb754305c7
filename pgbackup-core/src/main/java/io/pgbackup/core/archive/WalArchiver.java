package io.pgbackup.core.archive;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * The archiver: a long-lived process that looks ahead over PostgreSQL's
 * {@code pg_wal/archive_status/*.ready}, compresses and stores several segments at once, and
 * acknowledges each one to the {@code archive_command} (archive_wal.sh) waiting for it. One per
 * repository; archive_wal.sh starts it when none runs, and it exits after a quiet period.
 */
public interface WalArchiver {
    /**
     * Archives what {@code pgData}'s cluster has ready until nothing was ready for the idle
     * period. Returns at once (with {@link ArchiverRun#alreadyRunning()}) when another archiver holds the repository.
     */
    ArchiverRun run(Path pgData);

    /**
     * As {@link #run(Path)}, with the acknowledgements in {@code spool}: the directory the
     * installed archive_wal.sh waits in, which it passes along, so a script and an archiver of
     * different versions always agree on it.
     */
    ArchiverRun run(Path pgData, Path spool);

    /** What the last (or the running) archiver reported, if one ever ran on this repository. */
    Optional<ArchiverState> state();

    /**
     * Refuses a {@code pgData} that is not a PostgreSQL data directory (no {@code pg_wal}), before an
     * archiver starts on it; {@code option} names where it came from (e.g. {@code --pgdata}).
     */
    static void requireDataDirectory(String option, Path pgData) {
        if (!Files.isDirectory(pgData.toAbsolutePath().resolve("pg_wal"))) {
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT,
                    option + " " + pgData + " is not a PostgreSQL data directory (no pg_wal): give the cluster's PGDATA");
        }
    }

    /**
     * How one archiver run ended.
     *
     * @param alreadyRunning another archiver held the repository; this one did nothing
     * @param acknowledged   files acknowledged as archived (stored now, or found identical)
     * @param failed         attempts that ended in an error acknowledgement (retried while PostgreSQL retries)
     * @param lastError      the last error's line, empty when none
     */
    record ArchiverRun(boolean alreadyRunning, long acknowledged, long failed, String lastError) {
    }

    /**
     * The archiver as it last reported itself (its state file, rewritten every second while it runs).
     *
     * @param running            a live process holds the repository's archiver lock
     * @param pid                its process id
     * @param pgData             the cluster it archives
     * @param startedAt          when it started
     * @param updatedAt          when it last wrote this state
     * @param queueDepth         {@code .ready} files it saw waiting, the segment PostgreSQL is on included
     * @param lastAcknowledged   the newest file acknowledged as archived, empty when none yet
     * @param lastAcknowledgedAt when, null when none
     * @param lastAckLatencyMillis from seeing the {@code .ready} to the acknowledgement, for the last file
     * @param averageAckLatencyMillis the same over this run
     * @param acknowledged       files acknowledged this run
     * @param failed             error acknowledgements this run
     * @param lastError          the last error (empty when none); while it is newer than the last acknowledgement, archiving is stuck on it
     * @param lastErrorAt        when, null when none
     * @param offsitePending     archived files not yet copied to the offsite targets (bucket, rsync remote)
     * @param offsiteOldestPendingSince when the oldest of those was archived, null when none
     * @param offsiteLastError   the last offsite copy failure, empty when none
     */
    record ArchiverState(boolean running, long pid, String pgData, Instant startedAt, Instant updatedAt, int queueDepth,
                                String lastAcknowledged, Instant lastAcknowledgedAt, long lastAckLatencyMillis,
                                long averageAckLatencyMillis, long acknowledged, long failed, String lastError, Instant lastErrorAt,
                                int offsitePending, Instant offsiteOldestPendingSince, String offsiteLastError) {
        /** The same state, of a process that is gone (it died without saying so). */
        public ArchiverState notRunning() {
            return new ArchiverState(false, pid, pgData, startedAt, updatedAt, queueDepth, lastAcknowledged, lastAcknowledgedAt,
                    lastAckLatencyMillis, averageAckLatencyMillis, acknowledged, failed, lastError, lastErrorAt, offsitePending,
                    offsiteOldestPendingSince, offsiteLastError);
        }

        /** Whether the last thing that happened was an error: archiving is stuck until it clears. */
        public boolean stuck() {
            return lastErrorAt != null && (lastAcknowledgedAt == null || lastErrorAt.isAfter(lastAcknowledgedAt));
        }
    }
}
