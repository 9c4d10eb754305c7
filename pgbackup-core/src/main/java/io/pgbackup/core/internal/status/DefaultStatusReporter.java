package io.pgbackup.core.internal.status;

import io.pgbackup.core.status.StatusReport;

import io.pgbackup.core.status.StatusReporter;

import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupScan;
import io.pgbackup.core.backup.BackupManager;
import io.pgbackup.core.internal.archive.WalArchive;
import io.pgbackup.core.backup.BackupScan.UnreadableBackup;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.postgres.ServerInfo;
import io.pgbackup.core.status.StatusReport.Archiver;
import io.pgbackup.core.status.StatusReport.BackupVerification;
import io.pgbackup.core.status.StatusReport.BackupsStatus;
import io.pgbackup.core.status.StatusReport.ClusterStatus;
import io.pgbackup.core.status.StatusReport.ConfigSummary;
import io.pgbackup.core.status.StatusReport.DiskStatus;
import io.pgbackup.core.status.StatusReport.Verdict;
import io.pgbackup.core.status.StatusReport.WalArchiveStatus;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.verify.VerificationRecord;
import io.pgbackup.core.internal.verify.VerificationRecords;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The production {@link StatusReporter}: reads the repository, the cluster and the disk, never writes. */
public final class DefaultStatusReporter implements StatusReporter {
    /** A daily schedule that has missed more than a day is worth a warning. */
    static final Duration STALE_BACKUP = Duration.ofHours(26);
    static final double LOW_DISK_FRACTION = 0.10;

    private final PgBackupContext context;
    private final BackupManager backupManager;

    public DefaultStatusReporter(PgBackupContext context, BackupManager backupManager) {
        this.context = context;
        this.backupManager = backupManager;
    }

    @Override
    public StatusReport report() {
        PgBackupConfig config = context.config();
        Repository repository = context.repository();
        Instant now = context.clock().instant();
        List<String> fail = new ArrayList<>();
        List<String> warn = new ArrayList<>();

        ClusterStatus cluster = cluster(repository);
        if (!cluster.reachable()) {
            warn.add("cannot check the cluster's archiving: " + cluster.error());
        } else {
            Map<String, String> s = cluster.settings();
            StatusReport.Standby standby = cluster.standby();
            // A standby that does not archive leaves it to the primary, which this connection cannot see.
            boolean archivesHere = standby == null || standby.archivesHere();
            if (archivesHere && !"on".equals(s.get("archive_mode")) && !"always".equals(s.get("archive_mode"))) {
                fail.add("archive_mode is " + s.get("archive_mode") + ": set archive_mode = on and restart PostgreSQL (see 'pgbackup init')");
            }
            if (!"replica".equals(s.get("wal_level")) && !"logical".equals(s.get("wal_level"))) {
                fail.add("wal_level is " + s.get("wal_level") + ": set wal_level = replica and restart PostgreSQL");
            }
            if (archivesHere && !cluster.usesInstalledScript()) {
                fail.add("archive_command does not run " + repository.archiveScript() + " (see 'pgbackup init')");
            }
            if (standby != null && !"streaming".equals(standby.walReceiver())) {
                warn.add("the standby's WAL receiver is " + standby.walReceiver() + ", not streaming: check primary_conninfo"
                        + " and the primary (the standby's log says why); its backups fall behind the primary");
            }
            if (cluster.archiver() != null && cluster.archiver().failingNow()) {
                fail.add("archiving is failing: last failure " + cluster.archiver().lastFailedWal() + " at "
                        + cluster.archiver().lastFailedTime() + " (see " + repository.walArchiveLog() + ")");
            }
        }

        WalArchiveStatus wal = null;
        BackupsStatus backups = null;
        WalArchive archive = null;
        StatusReport.EncryptionStatus encryption = null;
        if (!repository.isInitialized()) {
            fail.add(repository.root() + " is not initialized: run 'pgbackup init'");
        } else {
            encryption = io.pgbackup.core.internal.crypto.WrapKeyCensus.of(repository);
            io.pgbackup.core.internal.crypto.WrapKeyCensus.warning(encryption).ifPresent(warn::add);
            archive = readArchive(repository);
            wal = walArchive(archive, now);
            backups = backups(now);
            if (backups.count() == 0) {
                fail.add("no backups yet: run 'pgbackup backup'");
            } else if (backups.newestAge().compareTo(STALE_BACKUP) > 0) {
                warn.add("newest backup " + backups.newestId() + " is " + backups.newestAge().toHours() + " h old");
            }
            for (UnreadableBackup u : backups.unreadable()) {
                warn.add("backup " + u.id() + " cannot be used: " + u.reason() + "; list, restore and cleanup skip it"
                        + " ('pgbackup verify " + u.id() + "' says the same; move the directory away once it is understood)");
            }
            backups.newestVerification().ifPresent(v -> {
                // Never verified is not a problem in itself; a verify or restore test that failed is.
                if (Boolean.FALSE.equals(v.lastRestoreTestOk())) {
                    warn.add("the last restore test of newest backup " + v.backupId() + " failed (" + v.lastRestoreTest()
                            + "): run 'pgbackup verify --restore-test' for the reason");
                } else if (Boolean.FALSE.equals(v.lastVerifyOk())) {
                    warn.add("newest backup " + v.backupId() + " failed verification at " + v.lastVerified()
                            + ": run 'pgbackup verify' for the reason");
                }
            });
        }
        DiskStatus disk = disk(repository, archive);
        if (disk.totalBytes() > 0 && disk.freeBytes() < disk.totalBytes() * LOW_DISK_FRACTION) {
            warn.add("less than 10% free space left on the filesystem of " + repository.root());
        }

        config.s3().flatMap(io.pgbackup.core.storage.s3.S3Settings::plainHttpWarning).ifPresent(warn::add);
        StatusReport.BucketStatus bucket = bucket(repository, archive, backups, now, warn);
        StatusReport.ArchiverStatus walArchiver = new ArchiverReport(context, repository).report(now, fail, warn);

        List<io.pgbackup.core.restore.RestoreInProgress> restores = restoresInProgress(repository, now, warn);
        List<String> reasons = new ArrayList<>(fail);
        reasons.addAll(warn);
        Verdict verdict = !fail.isEmpty() ? Verdict.FAIL : !warn.isEmpty() ? Verdict.WARN : Verdict.OK;
        return new StatusReport(verdict, reasons, summary(config), cluster, wal, backups, disk, bucket, walArchiver,
                restores, encryption);
    }

    /**
     * Restores whose marker is live: cleanup keeps their backup and WAL. One that cannot be read
     * keeps everything, which deserves a warning.
     */
    private static List<io.pgbackup.core.restore.RestoreInProgress> restoresInProgress(Repository repository, Instant now,
                                                                                     List<String> warn) {
        try {
            List<io.pgbackup.core.restore.RestoreInProgress> live = io.pgbackup.core.internal.restore.RestoreMarkers.list(repository)
                    .stream().filter(r -> r.live(now)).toList();
            live.stream().filter(r -> !r.readable()).forEach(r -> warn.add("restore marker " + r.marker() + " cannot be read ("
                    + r.problem() + "): cleanup deletes nothing until " + r.expires() + "; remove it if no restore is running"));
            return live;
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** WAL archived here this long ago and still not in the bucket means the background copy is not working. */
    static final Duration BUCKET_WAL_GRACE = Duration.ofMinutes(10);

    /** The bucket's section and its reasons (WARN: recovery from here still works), or null without a bucket. */
    private StatusReport.BucketStatus bucket(Repository repository, WalArchive archive, BackupsStatus backups, Instant now,
                                             List<String> warn) {
        java.util.Optional<io.pgbackup.core.storage.Storage> configured = context.bucket();
        if (configured.isEmpty()) {
            return null;
        }
        io.pgbackup.core.storage.Storage bucket = configured.get();
        boolean isRepository = repository.rawStorage() == bucket;
        List<String> localIds = backups == null ? List.of()
                : backups.verification().stream().map(StatusReport.BackupVerification::backupId).toList();
        StatusReport.BucketStatus b = BucketProbe.probe(bucket, isRepository || archive == null ? null : archive, localIds,
                isRepository ? archive : null);
        if (!b.reachable()) {
            warn.add("the S3 bucket " + b.location() + " cannot be read: " + b.error());
            return b;
        }
        if (Boolean.FALSE.equals(b.writable())) {
            warn.add("the S3 bucket " + b.location() + " cannot be written: " + b.error());
        }
        if (!b.isRepository() && b.backupsMissing() > 0) {
            warn.add(b.backupsMissing() + " backup(s) here are not in " + b.location() + " (newest here " + b.localNewestBackup()
                    + ", newest there " + (b.newestBackup() == null ? "none" : b.newestBackup()) + "): run 'pgbackup sync'");
        }
        if (!b.isRepository() && archive != null && b.walMissing() > 0) {
            boolean stale = archive.entries().values().stream().anyMatch(e -> e.archivedAt().isBefore(now.minus(BUCKET_WAL_GRACE))
                    && b.localNewestWal() != null && (b.newestWal() == null || b.newestWal().compareTo(e.name()) < 0));
            if (stale) {
                warn.add(b.walMissing() + " archived WAL file(s) are not in " + b.location() + " (newest there "
                        + (b.newestWal() == null ? "none" : b.newestWal()) + ", here " + b.localNewestWal()
                        + "): see the s3-sync lines of " + repository.walArchiveLog() + ", or run 'pgbackup sync'");
            }
        }
        return b;
    }

    private static WalArchive readArchive(Repository repository) {
        try {
            return WalArchive.read(repository);
        } catch (PgBackupException e) {
            return null;
        }
    }

    private static ConfigSummary summary(PgBackupConfig c) {
        return new ConfigSummary(c.user().orElse(null), c.hasPassword() ? "****" : null, c.database().orElse(null),
                c.host(), c.port(), c.backupDir().map(Path::toString).orElse(null),
                c.pgData().map(Path::toString).orElse(null), c.retainDays(), c.retainCount(), c.retainWalDays(),
                c.remote().map(r -> r.rsyncTarget() + " (port " + r.port() + ")").orElse(null),
                c.compression().cliName());
    }

    private ClusterStatus cluster(Repository repository) {
        try (Connection connection = context.connector().open(); Statement st = connection.createStatement()) {
            ServerInfo info = ServerInfo.read(connection);
            StatusReport.Standby standby = info.inRecovery() ? standby(st, info, repository) : null;
            Archiver archiver = null;
            if (standby == null || standby.archivesHere()) {
                try (ResultSet rs = st.executeQuery("SELECT archived_count, last_archived_wal, last_archived_time,"
                        + " failed_count, last_failed_wal, last_failed_time FROM pg_stat_archiver")) {
                    rs.next();
                    archiver = new Archiver(rs.getLong(1), rs.getString(2), rs.getObject(3, OffsetDateTime.class),
                            rs.getLong(4), rs.getString(5), rs.getObject(6, OffsetDateTime.class));
                }
            }
            Map<String, String> settings = new java.util.LinkedHashMap<>();
            for (String name : ServerInfo.ARCHIVING_SETTINGS) {
                settings.put(name, info.setting(name));
            }
            boolean usesScript = info.setting("archive_command").contains(repository.archiveScript().toString());
            return new ClusterStatus(true, null, info.version(), info.systemIdentifier(), info.timeline(), settings,
                    usesScript, archiver, standby);
        } catch (PgBackupException e) {
            return new ClusterStatus(false, e.getMessage(), null, null, 0, Map.of(), false, null);
        } catch (SQLException e) {
            return new ClusterStatus(false, "query failed: " + e.getMessage(), null, null, 0, Map.of(), false, null);
        }
    }

    /** Replication of a server in recovery, and who archives: it, with archive_mode = always, or its primary. */
    private static StatusReport.Standby standby(Statement st, ServerInfo info, Repository repository) throws SQLException {
        String receiver = "not running";
        String primary = null;
        try (ResultSet rs = st.executeQuery("SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver")) {
            if (rs.next()) {
                receiver = rs.getString(1);
                primary = rs.getString(2) == null ? null : rs.getString(2) + ":" + rs.getInt(3);
            }
        }
        try (ResultSet rs = st.executeQuery("SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,"
                + " greatest(coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0), 0)::bigint,"
                + " pg_last_xact_replay_timestamp(),"
                + " (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint")) {
            rs.next();
            long delayMillis = rs.getLong(5);
            Duration delay = rs.wasNull() ? null : Duration.ofMillis(Math.max(0, delayMillis));
            boolean archivesHere = "always".equals(info.setting("archive_mode"));
            String archiving = archivesHere
                    ? "this standby archives the WAL it receives (archive_mode = always)"
                    : "this standby does not archive (archive_mode = " + info.setting("archive_mode")
                    + " archives only once promoted): the primary must archive into " + repository.root()
                    + "; run 'pgbackup status' against the primary to check it";
            return new StatusReport.Standby(receiver, primary, rs.getString(1), rs.getString(2), rs.getLong(3),
                    rs.getObject(4, OffsetDateTime.class), delay, archivesHere, archiving);
        }
    }

    private static WalArchiveStatus walArchive(WalArchive archive, Instant now) {
        if (archive == null) {
            return new WalArchiveStatus(0, 0, null, null, null);
        }
        long bytes = 0;
        WalSegmentName newest = null;
        WalArchive.Entry newestEntry = null;
        for (WalArchive.Entry entry : archive.entries().values()) {
            bytes += entry.size();
            Optional<WalSegmentName> segment = WalSegmentName.parse(entry.name(), WalSegmentName.DEFAULT_SEGMENT_SIZE);
            if (segment.isPresent() && (newest == null || segment.get().compareTo(newest) > 0)) {
                newest = segment.get();
                newestEntry = entry;
            }
        }
        if (newestEntry == null) {
            return new WalArchiveStatus(archive.entries().size(), bytes, null, null, null);
        }
        Instant modified = newestEntry.archivedAt();
        return new WalArchiveStatus(archive.entries().size(), bytes, newest.fileName(),
                OffsetDateTime.ofInstant(modified, ZoneId.systemDefault()), Duration.between(modified, now));
    }

    private BackupsStatus backups(Instant now) {
        BackupScan scan = backupManager.scan();
        List<BackupInfo> all = scan.backups();
        List<UnreadableBackup> unreadable = scan.unreadable();
        if (all.isEmpty()) {
            return new BackupsStatus(0, 0, null, null, null, null, List.of(), unreadable);
        }
        VerificationRecords records = new VerificationRecords(context.repository());
        List<BackupVerification> verification = all.stream().map(b -> verification(b, records)).toList();
        BackupInfo newest = all.get(all.size() - 1);
        long bytes = all.stream().mapToLong(BackupInfo::storedBytes).sum();
        java.util.Map<String, List<io.pgbackup.core.backup.BackupManifest.Tablespace>> tablespaces = new java.util.LinkedHashMap<>();
        all.stream().filter(b -> !b.manifest().tablespaces().isEmpty()).forEach(b -> tablespaces.put(b.id(), b.manifest().tablespaces()));
        return new BackupsStatus(all.size(), bytes, newest.id(), newest.manifest().endTime(), newest.age(now),
                all.get(0).id(), verification, unreadable, tablespaces, io.pgbackup.core.internal.incremental.Chains.status(all, newest, now));
    }

    private static BackupVerification verification(BackupInfo backup, VerificationRecords records) {
        return records.read(backup.id()).map(r -> {
            VerificationRecord.RestoreTestRecord t = r.lastRestoreTest();
            return new BackupVerification(backup.id(), r.verifiedAt(), r.ok(), t == null ? null : t.at(),
                    t == null ? null : t.ok(), t == null ? null : t.duration(), r.provenAt().orElse(null));
        }).orElse(new BackupVerification(backup.id(), null, null, null, null, null, null));
    }

    private static DiskStatus disk(Repository repository, WalArchive archive) {
        // The WAL archive's bytes come from this command's one listing of it.
        Repository.DiskUsage usage = repository.diskUsage(archive == null ? -1 : archive.storedBytes());
        return new DiskStatus(usage.storedBytes(), usage.freeBytes(), usage.totalBytes());
    }
}
