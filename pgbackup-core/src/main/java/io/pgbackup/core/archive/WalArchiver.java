package io.pgbackup.core.archive;

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

    /** What the last (or the running) archiver reported, if one ever ran on this repository. */
    Optional<ArchiverState> state();
}
