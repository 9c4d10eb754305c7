package io.pgbackup.core.status;

import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.backup.BackupScan.UnreadableBackup;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;

/**
 * Everything {@code status} knows, computed once: configuration (password masked), the live
 * cluster's archiving state, the WAL archive, the backups, disk space, and a one-word verdict
 * with the reasons behind it.
 */
public record StatusReport(Verdict verdict, List<String> reasons, ConfigSummary config, ClusterStatus cluster,
                           WalArchiveStatus walArchive, BackupsStatus backups, DiskStatus disk, BucketStatus bucket,
                           ArchiverStatus walArchiver, List<io.pgbackup.core.restore.RestoreInProgress> restores,
                           EncryptionStatus encryption) {
    public StatusReport {
        reasons = List.copyOf(reasons);
        restores = restores == null ? List.of() : List.copyOf(restores);
    }

    /** Without the encryption section. */
    public StatusReport(Verdict verdict, List<String> reasons, ConfigSummary config, ClusterStatus cluster,
                        WalArchiveStatus walArchive, BackupsStatus backups, DiskStatus disk, BucketStatus bucket,
                        ArchiverStatus walArchiver, List<io.pgbackup.core.restore.RestoreInProgress> restores) {
        this(verdict, reasons, config, cluster, walArchive, backups, disk, bucket, walArchiver, restores, null);
    }

    /**
     * Encryption at rest: the wrap keys the repository's data keysets ({@code base/<id>/keys/},
     * {@code wal_archive/keys/}) are wrapped with. Null when the repository is not initialized.
     *
     * @param configuredKeyId     the configured key's id (null: no key configured, new objects are stored plain)
     * @param publicKeyOnly       the configured key is a public key: this host seals but cannot open
     * @param records             keyset records in the repository (0: nothing in it is sealed)
     * @param recordsByWrapKey    records per wrap key id; a record wrapped by two keys (rotation under way) counts for both
     * @param configuredKeyAmong  some record is wrapped under the configured key
     * @param recordsWithoutConfiguredKey records the configured key does not open: what they seal needs another key
     */
    public record EncryptionStatus(String configuredKeyId, boolean publicKeyOnly, long records, Map<String, Long> recordsByWrapKey,
                                   boolean configuredKeyAmong, long recordsWithoutConfiguredKey) {
        public EncryptionStatus {
            recordsByWrapKey = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(recordsByWrapKey));
        }
    }

    /**
     * Without restores in progress.
     *
     * @see #restores() the restores whose marker is live: cleanup keeps what their replay needs
     */
    public StatusReport(Verdict verdict, List<String> reasons, ConfigSummary config, ClusterStatus cluster,
                        WalArchiveStatus walArchive, BackupsStatus backups, DiskStatus disk, BucketStatus bucket,
                        ArchiverStatus walArchiver) {
        this(verdict, reasons, config, cluster, walArchive, backups, disk, bucket, walArchiver, List.of());
    }

    /** Without the archiver section. */
    public StatusReport(Verdict verdict, List<String> reasons, ConfigSummary config, ClusterStatus cluster,
                        WalArchiveStatus walArchive, BackupsStatus backups, DiskStatus disk, BucketStatus bucket) {
        this(verdict, reasons, config, cluster, walArchive, backups, disk, bucket, null);
    }

    /**
     * How WAL gets into the repository.
     *
     * @param mode       what the installed archive_wal.sh does: {@code async} (the archiver), {@code sync}, or {@code unknown}
     * @param readyFiles {@code .ready} files waiting in the cluster's {@code pg_wal/archive_status} (-1: cannot see PGDATA)
     * @param state      what the archiver last reported (null: it never ran here)
     */
    public record ArchiverStatus(String mode, int readyFiles, io.pgbackup.core.archive.WalArchiver.ArchiverState state) {
    }

    /** Without a bucket section (no S3 bucket configured). */
    public StatusReport(Verdict verdict, List<String> reasons, ConfigSummary config, ClusterStatus cluster,
                        WalArchiveStatus walArchive, BackupsStatus backups, DiskStatus disk) {
        this(verdict, reasons, config, cluster, walArchive, backups, disk, null);
    }

    /**
     * The S3 bucket ({@code PG_BACKUP_S3_*}); null when none is configured.
     *
     * @param location           {@code s3://bucket/prefix}
     * @param reachable          whether it could be listed; {@code error} says why not
     * @param writable           whether a probe object could be written and deleted (null: not tried)
     * @param isRepository       the commands read the bucket itself (no local repository here): no lag to show
     * @param newestWal          the newest archived segment in the bucket; {@code localNewestWal} here
     * @param newestBackup       the newest complete backup in the bucket; {@code localNewestBackup} here
     * @param walMissing         archived files here that the bucket lacks (-1 unknown)
     * @param backupsMissing     complete backups here whose manifest the bucket lacks (-1 unknown)
     */
    public record BucketStatus(String location, boolean reachable, String error, Boolean writable, boolean isRepository,
                               String newestWal, String localNewestWal, String newestBackup, String localNewestBackup,
                               long walMissing, long backupsMissing) {
    }

    /** OK: recoverable now. WARN: recoverable, but something needs a look. FAIL: point-in-time recovery is at risk. */
    public enum Verdict { OK, WARN, FAIL }

    public record ConfigSummary(String user, String password, String database, String host, int port,
                                String backupDir, String pgData, int retainDays, int retainCount,
                                int retainWalDays, String remote, String compression) {
    }

    /**
     * @param reachable     false when no connection could be made; {@code error} says why
     * @param settings      wal_level, archive_mode, archive_command, archive_timeout, max_wal_senders
     * @param usesInstalledScript whether archive_command runs this repository's scripts/archive_wal.sh
     * @param archiver      pg_stat_archiver; null when unreachable or on a standby that does not archive
     * @param standby       replication and archiving of a standby; null for a primary
     */
    public record ClusterStatus(boolean reachable, String error, String version, String systemIdentifier,
                                int timeline, Map<String, String> settings, boolean usesInstalledScript,
                                Archiver archiver, Standby standby) {
        /** A primary's (or an unreachable server's) status. */
        public ClusterStatus(boolean reachable, String error, String version, String systemIdentifier,
                             int timeline, Map<String, String> settings, boolean usesInstalledScript,
                             Archiver archiver) {
            this(reachable, error, version, systemIdentifier, timeline, settings, usesInstalledScript, archiver, null);
        }
    }

    /**
     * The server is a streaming standby (in recovery).
     *
     * @param walReceiver        pg_stat_wal_receiver's status ({@code streaming}, ...), or {@code not running}
     * @param primary            where the WAL receiver streams from ({@code host:port}); null when not connected
     * @param receiveLsn         pg_last_wal_receive_lsn(): WAL received and flushed here (null before any streamed)
     * @param replayLsn          pg_last_wal_replay_lsn(): WAL applied here
     * @param replayLagBytes     received but not yet applied, in bytes
     * @param lastReplayedCommit pg_last_xact_replay_timestamp(): the primary's time of the last replayed commit
     * @param replayDelay        now() minus that: also grows while the primary writes nothing; null before a commit replayed
     * @param archivesHere       archive_mode = always: this standby archives the WAL it receives
     * @param archiving          one line: who archives WAL into the repository
     */
    public record Standby(String walReceiver, String primary, String receiveLsn, String replayLsn, long replayLagBytes,
                          OffsetDateTime lastReplayedCommit, Duration replayDelay, boolean archivesHere,
                          String archiving) {
    }

    /** pg_stat_archiver: what PostgreSQL itself says about archive_command. */
    public record Archiver(long archivedCount, String lastArchivedWal, OffsetDateTime lastArchivedTime,
                           long failedCount, String lastFailedWal, OffsetDateTime lastFailedTime) {
        /** The last attempt failed: archiving is broken right now. */
        public boolean failingNow() {
            return lastFailedTime != null && (lastArchivedTime == null || lastFailedTime.isAfter(lastArchivedTime));
        }
    }

    public record WalArchiveStatus(long files, long bytes, String newestSegment, OffsetDateTime newestTime,
                                   Duration newestAge) {
    }

    /**
     * @param verification one entry per backup, oldest first: what {@code verify} last found and
     *                     when a restore test last proved the backup restores
     * @param tablespaces  by backup id, the tablespaces outside PGDATA each backup holds (backups without any left out)
     * @param chain        the newest backup's chain (what restoring it reads); null when there is no backup
     */
    public record BackupsStatus(int count, long bytes, String newestId, OffsetDateTime newestEnd, Duration newestAge,
                                String oldestId, List<BackupVerification> verification,
                                List<UnreadableBackup> unreadable, Map<String, List<BackupManifest.Tablespace>> tablespaces,
                                ChainStatus chain) {
        public BackupsStatus(int count, long bytes, String newestId, OffsetDateTime newestEnd, Duration newestAge,
                             String oldestId, List<BackupVerification> verification,
                             List<UnreadableBackup> unreadable, Map<String, List<BackupManifest.Tablespace>> tablespaces) {
            this(count, bytes, newestId, newestEnd, newestAge, oldestId, verification, unreadable, tablespaces, null);
        }

        public BackupsStatus {
            verification = verification == null ? List.of() : List.copyOf(verification);
            unreadable = unreadable == null ? List.of() : List.copyOf(unreadable);
            tablespaces = tablespaces == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tablespaces));
        }

        public BackupsStatus(int count, long bytes, String newestId, OffsetDateTime newestEnd, Duration newestAge,
                             String oldestId, List<BackupVerification> verification, List<UnreadableBackup> unreadable) {
            this(count, bytes, newestId, newestEnd, newestAge, oldestId, verification, unreadable, Map.of());
        }

        /** The newest backup's entry, if there is a backup. */
        public java.util.Optional<BackupVerification> newestVerification() {
            return verification.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(verification.get(verification.size() - 1));
        }
    }

    /**
     * A chain of backups: its full, every backup from the full to the newest, their stored bytes and
     * the full's age (a restore of the newest reads them all).
     */
    public record ChainStatus(String fullId, List<String> backups, long bytes, Duration fullAge) {
        public ChainStatus {
            backups = List.copyOf(backups);
        }
    }

    /**
     * From {@code base/<id>/pgbackup_verified.json}; nulls where verify has never run.
     *
     * @param lastVerified        when {@code verify} last checked this backup, and {@code lastVerifyOk} its verdict
     * @param lastRestoreTest     when the last {@code verify --restore-test} of it ended, {@code lastRestoreTestOk} whether
     *                            it passed and {@code restoreTestDuration} how long it took
     * @param provenAt            when a restore test last passed (null if the last one failed or none ran)
     */
    public record BackupVerification(String backupId, OffsetDateTime lastVerified, Boolean lastVerifyOk,
                                     OffsetDateTime lastRestoreTest, Boolean lastRestoreTestOk, Duration restoreTestDuration,
                                     OffsetDateTime provenAt) {
    }

    public record DiskStatus(long repositoryBytes, long freeBytes, long totalBytes) {
    }
}
