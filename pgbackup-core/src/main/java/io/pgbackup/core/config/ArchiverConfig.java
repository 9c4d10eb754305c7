package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.util.Map;
import java.util.Optional;

/**
 * How WAL is archived and fetched ({@code PG_BACKUP_ARCHIVER*}, {@code PG_BACKUP_FETCH_AHEAD}).
 *
 * @param mode        {@code async}: archive_wal.sh hands each segment to a long-lived
 *                    {@code pgbackup archiver} that looks ahead over {@code archive_status/*.ready}
 *                    and stores several at once; {@code sync}: the script stores its segment itself.
 *                    Empty: async when a pgbackup command is known to start the archiver with, else sync.
 * @param workers     segments compressed and stored at once (default: two per core)
 * @param bucketOnly  the archiver stores into the S3 bucket, the local directory is only a spool;
 *                    a segment is acknowledged once the bucket confirmed it
 * @param fetchAhead  segments restore_wal.sh fetches ahead in the background (0: one at a time)
 * @param ackTimeoutSeconds how long archive_wal.sh waits for the archiver's acknowledgement
 * @param idleExitSeconds   the archiver exits after this long with nothing to archive
 */
public record ArchiverConfig(Optional<Mode> mode, int workers, boolean bucketOnly, int fetchAhead,
                             int ackTimeoutSeconds, int idleExitSeconds) {
    public static final String PG_BACKUP_ARCHIVER = "PG_BACKUP_ARCHIVER";
    public static final String PG_BACKUP_ARCHIVER_WORKERS = "PG_BACKUP_ARCHIVER_WORKERS";
    public static final String PG_BACKUP_ARCHIVER_REPO = "PG_BACKUP_ARCHIVER_REPO";
    public static final String PG_BACKUP_FETCH_AHEAD = "PG_BACKUP_FETCH_AHEAD";
    public static final String PG_BACKUP_ARCHIVER_ACK_TIMEOUT = "PG_BACKUP_ARCHIVER_ACK_TIMEOUT";
    public static final String PG_BACKUP_ARCHIVER_IDLE_EXIT = "PG_BACKUP_ARCHIVER_IDLE_EXIT";
    public static final int DEFAULT_FETCH_AHEAD = 32;

    public enum Mode { ASYNC, SYNC }

    public ArchiverConfig {
        mode = mode == null ? Optional.empty() : mode;
        check(PG_BACKUP_ARCHIVER_WORKERS, workers, 1, 64);
        check(PG_BACKUP_FETCH_AHEAD, fetchAhead, 0, 1024);
        check(PG_BACKUP_ARCHIVER_ACK_TIMEOUT, ackTimeoutSeconds, 1, 3600);
        check(PG_BACKUP_ARCHIVER_IDLE_EXIT, idleExitSeconds, 1, 86400);
        if (bucketOnly && mode.orElse(Mode.ASYNC) == Mode.SYNC) {
            throw new PgBackupException(ErrorCode.INVALID_CONFIG, PG_BACKUP_ARCHIVER_REPO + "=s3 needs the archiver: unset "
                    + PG_BACKUP_ARCHIVER + " or set it to async");
        }
    }

    public static ArchiverConfig defaults() {
        return new ArchiverConfig(Optional.empty(), defaultWorkers(), false, DEFAULT_FETCH_AHEAD, 60, 60);
    }

    /**
     * Two per core: a worker spends part of each segment waiting for fsync, and with one per core
     * the bench's archiver kept only 0.6 of 2 cores busy.
     */
    public static int defaultWorkers() {
        return Math.max(2, Math.min(64, 2 * Runtime.getRuntime().availableProcessors()));
    }

    /** The mode init writes into archive_wal.sh: the configured one, else async when the archiver can be started. */
    public Mode effectiveMode(boolean launcherKnown) {
        return mode.orElse(launcherKnown || bucketOnly ? Mode.ASYNC : Mode.SYNC);
    }

    public ArchiverConfig withMode(Mode newMode) {
        return new ArchiverConfig(Optional.of(newMode), workers, bucketOnly, fetchAhead, ackTimeoutSeconds, idleExitSeconds);
    }

    public ArchiverConfig withWorkers(int n) {
        return new ArchiverConfig(mode, n, bucketOnly, fetchAhead, ackTimeoutSeconds, idleExitSeconds);
    }

    public ArchiverConfig withBucketOnly(boolean only) {
        return new ArchiverConfig(mode, workers, only, fetchAhead, ackTimeoutSeconds, idleExitSeconds);
    }

    public ArchiverConfig withFetchAhead(int n) {
        return new ArchiverConfig(mode, workers, bucketOnly, n, ackTimeoutSeconds, idleExitSeconds);
    }

    public ArchiverConfig withIdleExitSeconds(int s) {
        return new ArchiverConfig(mode, workers, bucketOnly, fetchAhead, ackTimeoutSeconds, s);
    }

    public ArchiverConfig withAckTimeoutSeconds(int s) {
        return new ArchiverConfig(mode, workers, bucketOnly, fetchAhead, s, idleExitSeconds);
    }

    static ArchiverConfig fromSettings(EnvSettings env) {
        ArchiverConfig d = defaults();
        Optional<Mode> mode = env.choice(PG_BACKUP_ARCHIVER, Optional.empty(),
                Map.of("async", Optional.of(Mode.ASYNC), "sync", Optional.of(Mode.SYNC)),
                "is not a mode: use async (the archiver) or sync (archive_wal.sh stores each segment itself)");
        boolean bucketOnly = env.choice(PG_BACKUP_ARCHIVER_REPO, false, Map.of("local", false, "s3", true),
                "is not a repository: use local (PG_BACKUP_DIR, the default) or s3 (the bucket; the directory is only a spool)");
        return new ArchiverConfig(mode, env.integer(PG_BACKUP_ARCHIVER_WORKERS, d.workers()), bucketOnly,
                env.integer(PG_BACKUP_FETCH_AHEAD, d.fetchAhead()), env.integer(PG_BACKUP_ARCHIVER_ACK_TIMEOUT, d.ackTimeoutSeconds()),
                env.integer(PG_BACKUP_ARCHIVER_IDLE_EXIT, d.idleExitSeconds()));
    }

    private static void check(String variable, int value, int min, int max) {
        if (value < min || value > max) {
            throw new PgBackupException(ErrorCode.INVALID_CONFIG, variable + "=" + value + " is out of range: use " + min + " to " + max);
        }
    }
}
