package io.pgbackup.core.internal.health;

import io.pgbackup.core.health.CheckReport;
import io.pgbackup.core.archive.WalArchiver.ArchiverState;
import io.pgbackup.core.health.Health;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.status.StatusReport;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The snapshot as Prometheus metrics, named the way pgbackrest_exporter and WAL-G's exporter name
 * theirs: timestamps of the last success (alert on {@code time() - x > ...}), sizes, backlogs.
 * A metric whose value is unknown (no backup yet, cluster unreachable) is left out rather than
 * reported as 0, so an alert on its absence can tell the difference.
 */
public final class HealthMetrics {
    private HealthMetrics() {
    }

    /**
     * @param newest the newest complete backup's manifest (null: none)
     * @param oldest the oldest one's (the start of the recovery window)
     */
    public static MetricSnapshots snapshot(StatusReport status, CheckReport check, BackupManifest newest, BackupManifest oldest,
                                           Instant now) {
        List<MetricSnapshot> m = new ArrayList<>();
        gauge(m, "pgbackup_check_status", "State of 'pgbackup check': 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN", check.state().exitCode());
        gauge(m, "pgbackup_metrics_generated_timestamp_seconds", "When these metrics were computed", seconds(now));

        StatusReport.BackupsStatus b = status.backups();
        if (b != null) {
            gauge(m, "pgbackup_backups", "Complete backups in the repository", b.count());
            gauge(m, "pgbackup_backups_size_bytes", "Stored bytes of all complete backups", b.bytes());
        }
        if (newest != null) {
            gauge(m, "pgbackup_backup_last_success_timestamp_seconds", "End of the newest complete backup", seconds(newest.endTime()));
            gauge(m, "pgbackup_backup_duration_seconds", "How long the newest complete backup took", newest.durationMillis() / 1000.0);
            gauge(m, "pgbackup_backup_size_bytes", "Stored bytes of the newest complete backup", newest.storedBytes());
        }
        StatusReport.ClusterStatus cluster = status.cluster();
        StatusReport.Archiver pg = cluster == null ? null : cluster.archiver();
        StatusReport.WalArchiveStatus wal = status.walArchive();
        OffsetDateTime lastArchived = pg != null && pg.lastArchivedTime() != null ? pg.lastArchivedTime()
                : wal == null ? null : wal.newestTime();
        if (lastArchived != null) {
            gauge(m, "pgbackup_wal_archive_last_success_timestamp_seconds", "When WAL was last archived", seconds(lastArchived));
        }
        if (pg != null) {
            gauge(m, "pgbackup_wal_archive_failing", "1 while PostgreSQL's last archive attempt failed", pg.failingNow() ? 1 : 0);
            if (pg.lastFailedTime() != null) {
                gauge(m, "pgbackup_wal_archive_last_failure_timestamp_seconds", "When archive_command last failed", seconds(pg.lastFailedTime()));
            }
            m.add(CounterSnapshot.builder().name("pgbackup_wal_archive_failures")
                    .help("archive_command failures since PostgreSQL's statistics were reset (pg_stat_archiver)")
                    .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(pg.failedCount()).build()).build());
        }
        if (wal != null) {
            gauge(m, "pgbackup_wal_archive_files", "Files in the WAL archive", wal.files());
            gauge(m, "pgbackup_wal_archive_size_bytes", "Stored bytes of the WAL archive", wal.bytes());
        }
        StatusReport.ArchiverStatus archiver = status.walArchiver();
        if (archiver != null && archiver.readyFiles() >= 0) {
            gauge(m, "pgbackup_wal_ready_files", ".ready files waiting for archiving in pg_wal", archiver.readyFiles());
        }
        ArchiverState a = archiver == null ? null : archiver.state();
        if (a != null) {
            gauge(m, "pgbackup_archiver_running", "1 while the async archiver holds the repository's lock", a.running() ? 1 : 0);
            gauge(m, "pgbackup_archiver_stuck", "1 while the archiver's last event is an error", a.stuck() ? 1 : 0);
            gauge(m, "pgbackup_offsite_pending_files", "Archived files not copied offsite yet", a.offsitePending());
            gauge(m, "pgbackup_offsite_lag_seconds", "Age of the oldest archived file not copied offsite yet (0: none)",
                    a.offsiteOldestPendingSince() == null ? 0 : Math.max(0, Duration.between(a.offsiteOldestPendingSince(), now).toSeconds()));
        }
        if (oldest != null && lastArchived != null) {
            gauge(m, "pgbackup_recovery_window_seconds", "From the oldest backup's start to the newest archived WAL: how far back PITR reaches",
                    Math.max(0, Duration.between(oldest.startTime(), lastArchived).toSeconds()));
        }
        if (b != null) {
            b.verification().stream().filter(v -> Boolean.TRUE.equals(v.lastVerifyOk())).map(StatusReport.BackupVerification::lastVerified)
                    .filter(Objects::nonNull).max(Comparator.naturalOrder())
                    .ifPresent(t -> gauge(m, "pgbackup_verify_last_success_timestamp_seconds", "When a verify last passed", seconds(t)));
            b.verification().stream().map(StatusReport.BackupVerification::provenAt).filter(Objects::nonNull).max(Comparator.naturalOrder())
                    .ifPresent(t -> gauge(m, "pgbackup_restore_test_last_success_timestamp_seconds", "When a restore test last passed", seconds(t)));
        }
        StatusReport.DiskStatus disk = status.disk();
        if (disk != null && disk.freeBytes() >= 0) {
            gauge(m, "pgbackup_repository_free_bytes", "Free bytes on the repository's filesystem", disk.freeBytes());
            gauge(m, "pgbackup_repository_filesystem_size_bytes", "Size of the repository's filesystem", disk.totalBytes());
        }
        return new MetricSnapshots(m);
    }

    /** The Prometheus text exposition format (version 0.0.4), as node_exporter's textfile collector reads it. */
    public static String text(MetricSnapshots snapshots) {
        return new Health.Snapshot(null, null, snapshots).metricsText();
    }

    private static void gauge(List<MetricSnapshot> m, String name, String help, double value) {
        m.add(GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).build()).build());
    }

    private static double seconds(OffsetDateTime t) {
        return seconds(t.toInstant());
    }

    private static double seconds(Instant t) {
        return t.getEpochSecond() + t.getNano() / 1e9;
    }
}
