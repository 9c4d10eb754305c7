package io.pgbackup.core.archive;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.nio.file.Files;
import java.nio.file.Path;
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
}
