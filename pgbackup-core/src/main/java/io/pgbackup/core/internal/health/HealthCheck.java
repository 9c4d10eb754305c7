package io.pgbackup.core.internal.health;

import io.pgbackup.core.health.HealthSettings.CheckThresholds;
import io.pgbackup.core.health.CheckReport;
import io.pgbackup.core.archive.WalArchiver.ArchiverState;
import io.pgbackup.core.health.CheckReport.Finding;
import io.pgbackup.core.health.CheckReport.PerfData;
import io.pgbackup.core.health.CheckReport.State;
import io.pgbackup.core.status.StatusReport;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The plan of {@code pgbackup check}: judges one {@link StatusReport} snapshot against
 * {@link CheckThresholds}. Pure: no I/O, so every rule is unit-tested on hand-made snapshots.
 */
public final class HealthCheck {
    private HealthCheck() {
    }

    /**
     * @param oldestBackupStart when the oldest backup began (null: none): a repository younger than the
     *                          verify threshold is not yet expected to have been verified
     */
    public static CheckReport evaluate(StatusReport status, CheckThresholds t, OffsetDateTime oldestBackupStart, Instant now) {
        List<Finding> findings = new ArrayList<>();
        List<PerfData> perf = new ArrayList<>();

        StatusReport.BackupsStatus backups = status.backups();
        if (status.walArchive() == null) {
            findings.add(new Finding(State.CRITICAL, "repository", "repository not initialized: run 'pgbackup init'"));
        } else if (backups == null || backups.count() == 0) {
            findings.add(new Finding(State.CRITICAL, "backup_age", "no backup yet: run 'pgbackup backup'"));
        } else {
            Duration age = backups.newestAge();
            State s = age.compareTo(t.backupAge().multipliedBy(2)) > 0 ? State.CRITICAL
                    : age.compareTo(t.backupAge()) > 0 ? State.WARNING : State.OK;
            if (s != State.OK) {
                findings.add(new Finding(s, "backup_age", "newest backup " + backups.newestId() + " is " + age.toHours()
                        + " h old (threshold " + t.backupAge().toHours() + " h)"));
            }
            perf.add(new PerfData("backup_age", age.toSeconds(), "s", (double) t.backupAge().toSeconds(),
                    (double) t.backupAge().multipliedBy(2).toSeconds(), 0.0, null));
            perf.add(new PerfData("backups", backups.count(), "", null, null, 0.0, null));
        }

        archiving(status, t, now, findings, perf);
        verification(backups, t, oldestBackupStart, now, findings, perf);
        offsite(status, t, now, findings, perf);
        disk(status.disk(), t, findings, perf);

        if (status.cluster() != null && !status.cluster().reachable()) {
            findings.add(new Finding(State.WARNING, "cluster", "cannot reach PostgreSQL: " + status.cluster().error()));
        }
        // Whatever else status judges fatal (archive_mode off, archive_command not ours, archiver down) is critical here too.
        if (status.verdict() == StatusReport.Verdict.FAIL && findings.stream().noneMatch(f -> f.state() == State.CRITICAL)) {
            findings.add(new Finding(State.CRITICAL, "status", status.reasons().isEmpty() ? "status is FAIL" : status.reasons().get(0)));
        }

        State state = findings.stream().map(Finding::state).reduce(State.OK, State::worse);
        findings.sort(Comparator.comparing((Finding f) -> -rank(f.state())));
        String summary;
        if (findings.isEmpty()) {
            summary = backups == null || backups.newestId() == null ? "no problems found"
                    : "newest backup " + backups.newestId() + " " + hours(backups.newestAge()) + " old, archiving OK";
        } else {
            summary = String.join("; ", findings.stream().map(Finding::message).toList());
        }
        return new CheckReport(state, CheckReport.oneLine(summary), findings, perf);
    }

    private static int rank(State s) {
        return s == State.CRITICAL ? 3 : s == State.UNKNOWN ? 2 : s == State.WARNING ? 1 : 0;
    }

    private static String hours(Duration d) {
        return d.toHours() > 0 ? d.toHours() + " h" : d.toMinutes() + " min";
    }

    private static void archiving(StatusReport status, CheckThresholds t, Instant now, List<Finding> findings, List<PerfData> perf) {
        StatusReport.ClusterStatus cluster = status.cluster();
        StatusReport.Archiver pg = cluster == null ? null : cluster.archiver();
        if (pg != null && pg.failingNow()) {
            findings.add(new Finding(State.CRITICAL, "archiving", "archiving is failing: last failure " + pg.lastFailedWal()
                    + " at " + pg.lastFailedTime() + " (" + pg.failedCount() + " failures)"));
        }
        if (pg != null) {
            perf.add(new PerfData("archive_failures", pg.failedCount(), "c", null, null, 0.0, null));
        }
        StatusReport.ArchiverStatus archiver = status.walArchiver();
        int ready = archiver == null ? -1 : archiver.readyFiles();
        if (ready >= 0) {
            State s = ready > 2L * t.readyFiles() ? State.CRITICAL : ready > t.readyFiles() ? State.WARNING : State.OK;
            if (s != State.OK) {
                findings.add(new Finding(s, "ready_files", ready + " WAL file(s) wait for archiving in pg_wal (threshold "
                        + t.readyFiles() + ")"));
            }
            perf.add(new PerfData("ready_files", ready, "", (double) t.readyFiles(), 2.0 * t.readyFiles(), 0.0, null));
        }
        // WAL waiting while nothing was archived for longer than the lag: archiving is stuck, failing or not.
        StatusReport.WalArchiveStatus wal = status.walArchive();
        Instant lastArchived = pg != null && pg.lastArchivedTime() != null ? pg.lastArchivedTime().toInstant()
                : wal != null && wal.newestTime() != null ? wal.newestTime().toInstant() : null;
        if (lastArchived != null) {
            Duration lag = Duration.between(lastArchived, now);
            perf.add(new PerfData("archive_age", Math.max(0, lag.toSeconds()), "s", null, (double) t.archiveLag().toSeconds(), 0.0, null));
            if (ready > 0 && lag.compareTo(t.archiveLag()) > 0 && (pg == null || !pg.failingNow())) {
                findings.add(new Finding(State.CRITICAL, "archiving", ready + " WAL file(s) ready but nothing archived for "
                        + lag.toSeconds() + " s (threshold " + t.archiveLag().toSeconds() + " s): archiving is stuck"));
            }
        }
        ArchiverState a = archiver == null ? null : archiver.state();
        if (a != null && a.stuck() && "async".equals(archiver.mode())) {
            Duration stuckFor = Duration.between(a.lastErrorAt(), now);
            State s = stuckFor.compareTo(t.archiveLag()) > 0 ? State.CRITICAL : State.WARNING;
            findings.add(new Finding(s, "archiver", "the archiver is stuck on an error since " + a.lastErrorAt() + ": "
                    + a.lastError()));
        }
    }

    private static void verification(StatusReport.BackupsStatus backups, CheckThresholds t, OffsetDateTime oldestBackupStart,
                                     Instant now, List<Finding> findings, List<PerfData> perf) {
        if (backups == null || backups.count() == 0) {
            return;
        }
        backups.newestVerification().ifPresent(v -> {
            if (Boolean.FALSE.equals(v.lastVerifyOk())) {
                findings.add(new Finding(State.CRITICAL, "verify", "newest backup " + v.backupId() + " failed verification at "
                        + v.lastVerified() + ": run 'pgbackup verify' for the reason"));
            } else if (Boolean.FALSE.equals(v.lastRestoreTestOk())) {
                findings.add(new Finding(State.CRITICAL, "restore_test", "the last restore test of newest backup " + v.backupId()
                        + " failed at " + v.lastRestoreTest()));
            }
        });
        boolean settled = oldestBackupStart != null
                && Duration.between(oldestBackupStart.toInstant(), now).compareTo(t.verifyAge()) > 0;
        OffsetDateTime lastVerified = backups.verification().stream().map(StatusReport.BackupVerification::lastVerified)
                .filter(Objects::nonNull).max(Comparator.naturalOrder()).orElse(null);
        if (lastVerified == null) {
            if (settled) {
                findings.add(new Finding(State.WARNING, "verify", "no backup was ever verified: schedule 'pgbackup verify'"));
            }
        } else {
            Duration age = Duration.between(lastVerified.toInstant(), now);
            perf.add(new PerfData("verify_age", Math.max(0, age.toSeconds()), "s", (double) t.verifyAge().toSeconds(), null, 0.0, null));
            if (age.compareTo(t.verifyAge()) > 0) {
                findings.add(new Finding(State.WARNING, "verify", "last verify ran " + age.toDays() + " days ago (threshold "
                        + t.verifyAge().toDays() + " days)"));
            }
        }
        boolean restoreTested = backups.verification().stream().anyMatch(v -> v.lastRestoreTest() != null);
        if (!restoreTested && settled) {
            findings.add(new Finding(State.WARNING, "restore_test", "no restore test ever ran: schedule 'pgbackup verify --restore-test'"));
        }
    }

    private static void offsite(StatusReport status, CheckThresholds t, Instant now, List<Finding> findings, List<PerfData> perf) {
        StatusReport.ArchiverStatus archiver = status.walArchiver();
        ArchiverState a = archiver == null ? null : archiver.state();
        if (a != null && a.offsitePending() > 0 && a.offsiteOldestPendingSince() != null) {
            Duration lag = Duration.between(a.offsiteOldestPendingSince(), now);
            perf.add(new PerfData("offsite_lag", Math.max(0, lag.toSeconds()), "s", (double) t.archiveLag().toSeconds(),
                    (double) t.archiveLag().multipliedBy(6).toSeconds(), 0.0, null));
            if (lag.compareTo(t.archiveLag()) > 0) {
                State s = lag.compareTo(t.archiveLag().multipliedBy(6)) > 0 ? State.CRITICAL : State.WARNING;
                findings.add(new Finding(s, "offsite", a.offsitePending() + " archived file(s) not copied offsite for "
                        + lag.toSeconds() + " s" + (a.offsiteLastError().isEmpty() ? "" : ": " + a.offsiteLastError())));
            }
        }
        StatusReport.BucketStatus bucket = status.bucket();
        if (bucket != null && !bucket.reachable()) {
            findings.add(new Finding(State.WARNING, "offsite", "the S3 bucket " + bucket.location() + " cannot be read: " + bucket.error()));
        } else if (bucket != null && !bucket.isRepository() && bucket.backupsMissing() > 0) {
            findings.add(new Finding(State.WARNING, "offsite", bucket.backupsMissing() + " backup(s) not copied to "
                    + bucket.location() + ": run 'pgbackup sync'"));
        }
    }

    private static void disk(StatusReport.DiskStatus disk, CheckThresholds t, List<Finding> findings, List<PerfData> perf) {
        if (disk == null || disk.totalBytes() <= 0 || disk.freeBytes() < 0) {
            return;
        }
        double free = 100.0 * disk.freeBytes() / disk.totalBytes();
        perf.add(new PerfData("free_percent", Math.round(free * 10) / 10.0, "%", t.freePercent(), t.freePercent() / 2, 0.0, 100.0));
        if (free < t.freePercent()) {
            State s = free < t.freePercent() / 2 ? State.CRITICAL : State.WARNING;
            findings.add(new Finding(s, "disk", String.format(java.util.Locale.ROOT,
                    "%.1f%% free on the repository's filesystem (threshold %.0f%%)", free, t.freePercent())));
        }
    }
}
