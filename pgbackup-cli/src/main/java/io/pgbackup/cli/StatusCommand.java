package io.pgbackup.cli;

import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.status.StatusReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Map;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Show configuration, the cluster's archiving, the WAL archive, backups and disk space.")
final class StatusCommand extends BaseCommand {
    @picocli.CommandLine.Mixin
    RepoOption repo;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Override
    protected int execute() {
        io.pgbackup.core.PgBackup pg = pgBackup();
        StatusReport r = pg.status().report();
        if (json) {
            printJson(SettingsView.json(r, pg.config().settings()));
            return 0;
        }
        StatusReport.ConfigSummary c = r.config();
        out().println("status: " + r.verdict());
        r.reasons().forEach(reason -> out().println("  - " + reason));
        out().println();
        out().println("Configuration");
        row("user", c.user());
        row("password", c.password() == null ? "(not set: .pgpass, peer or trust)" : c.password());
        row("database", c.database());
        row("server", PgBackupConfig.describeServer(c.host(), c.port()));
        row("backup dir", c.backupDir());
        row("PGDATA", c.pgData());
        row("retention", c.retainCount() + " backups minimum, " + c.retainDays() + " days; WAL " + c.retainWalDays() + " days");
        row("compression", c.compression());
        row("remote sync", c.remote() == null ? "not configured" : c.remote());
        out().println();
        out().println("Settings (where each came from; the rest are defaults)");
        SettingsView.text(pg.config().settings(), this::row);

        StatusReport.ClusterStatus cl = r.cluster();
        out().println();
        out().println("PostgreSQL");
        if (!cl.reachable()) {
            row("reachable", "no: " + cl.error());
        } else {
            row("version", cl.version() + " (system id " + cl.systemIdentifier() + ", timeline " + cl.timeline() + ")");
            for (Map.Entry<String, String> e : cl.settings().entrySet()) {
                row(e.getKey(), e.getValue().isEmpty() ? "(empty)" : e.getValue());
            }
            row("uses our script", cl.usesInstalledScript() ? "yes" : "no");
            StatusReport.Standby sb = cl.standby();
            if (sb != null) {
                row("role", "standby" + (sb.primary() == null ? "" : " of " + sb.primary()) + ", WAL receiver " + sb.walReceiver());
                row("received", sb.receiveLsn() == null ? "(nothing streamed yet)" : sb.receiveLsn());
                row("replayed", sb.replayLsn() + " (" + Format.bytes(sb.replayLagBytes()) + " received, not yet applied)");
                row("replay delay", sb.replayDelay() == null ? "(no commit replayed yet)"
                        : Format.age(sb.replayDelay()) + " since the last replayed commit (" + sb.lastReplayedCommit()
                        + "; grows while the primary is idle too)");
                row("archiving", sb.archiving());
            }
            StatusReport.Archiver a = cl.archiver();
            if (a != null) {
                row("archived", a.archivedCount() + (a.lastArchivedWal() == null ? "" : ", last " + a.lastArchivedWal() + " at " + a.lastArchivedTime()));
                row("failed", a.failedCount() + (a.lastFailedWal() == null ? "" : ", last " + a.lastFailedWal() + " at " + a.lastFailedTime()));
            }
        }

        StatusReport.ArchiverStatus w = r.walArchiver();
        if (w != null) {
            out().println();
            out().println("Archiver");
            row("mode", w.mode() + ("async".equals(w.mode()) ? " (archive_wal.sh hands segments to 'pgbackup archiver')"
                    : "sync".equals(w.mode()) ? " (archive_wal.sh stores each segment itself)" : ""));
            row("queue", w.readyFiles() < 0 ? "unknown (PGDATA not readable here)" : w.readyFiles() + " file(s) ready in pg_wal");
            io.pgbackup.core.archive.WalArchiver.ArchiverState s = w.state();
            if (s != null) {
                row("process", s.running() ? "running, pid " + s.pid() + " since " + s.startedAt() : "not running (last seen " + s.updatedAt() + ")");
                row("last acked", s.lastAcknowledged().isEmpty() ? "none" : s.lastAcknowledged() + " at " + s.lastAcknowledgedAt()
                        + ", latency " + s.lastAckLatencyMillis() + " ms (average " + s.averageAckLatencyMillis() + " ms)");
                row("errors", s.failed() == 0 ? "none" : s.failed() + ", last at " + s.lastErrorAt() + ": " + s.lastError()
                        + (s.stuck() ? " (STUCK)" : ""));
                if (s.offsitePending() > 0 || !s.offsiteLastError().isEmpty()) {
                    row("offsite lag", s.offsitePending() + " file(s) not copied yet"
                            + (s.offsiteOldestPendingSince() == null ? "" : ", oldest since " + s.offsiteOldestPendingSince())
                            + (s.offsiteLastError().isEmpty() ? "" : "; last error: " + s.offsiteLastError()));
                }
            }
        }

        out().println();
        out().println("WAL archive");
        if (r.walArchive() == null) {
            row("files", "(repository not initialized)");
        } else {
            row("files", r.walArchive().files() + " (" + Format.bytes(r.walArchive().bytes()) + ")");
            row("newest", r.walArchive().newestSegment() == null ? "none"
                    : r.walArchive().newestSegment() + ", " + Format.age(r.walArchive().newestAge()) + " ago");
        }

        out().println();
        out().println("Backups");
        if (r.backups() == null || r.backups().count() == 0) {
            row("count", "0");
        } else {
            row("count", r.backups().count() + " (" + Format.bytes(r.backups().bytes()) + "), oldest " + r.backups().oldestId());
            row("newest", r.backups().newestId() + ", " + Format.age(r.backups().newestAge()) + " ago");
            if (r.backups().chain() != null && r.backups().chain().backups().size() > 1) {
                row("chain", r.backups().chain().backups().size() + " backups from full " + r.backups().chain().fullId() + " ("
                        + Format.bytes(r.backups().chain().bytes()) + ", full " + Format.age(r.backups().chain().fullAge()) + " old)");
            }
            java.time.OffsetDateTime now = java.time.OffsetDateTime.now();
            for (StatusReport.BackupVerification v : r.backups().verification()) {
                row(v.backupId(), proof(v, now));
                var tablespaces = r.backups().tablespaces().get(v.backupId());
                if (tablespaces != null) {
                    row("", "tablespaces: " + Format.tablespaces(tablespaces));
                }
            }
        }
        if (r.backups() != null) {
            r.backups().unreadable().forEach(u -> row(u.id(), "UNREADABLE, skipped: " + u.reason()));
        }

        if (!r.restores().isEmpty()) {
            out().println();
            out().println("Restores in progress (cleanup keeps what their replay reads)");
            for (io.pgbackup.core.restore.RestoreInProgress p : r.restores()) {
                row(p.readable() ? p.backupId() : "unreadable", p.readable()
                        ? "into " + p.targetDir() + " on " + p.host() + ", started " + p.started() + ", WAL from " + p.startWal()
                        + ", marker live until " + p.expires() : p.marker() + " (" + p.problem() + "), live until " + p.expires());
            }
        }

        if (r.encryption() != null) {
            StatusReport.EncryptionStatus e = r.encryption();
            out().println();
            out().println("Encryption at rest");
            row("configured key", e.configuredKeyId() == null ? "none: new objects are stored plain"
                    : e.configuredKeyId() + (e.publicKeyOnly() ? " (public half: seals, cannot open)" : ""));
            row("wrapped with", e.records() == 0 ? "nothing is sealed" : e.recordsByWrapKey().entrySet().stream()
                    .map(k -> "key " + k.getKey() + ": " + k.getValue() + " keyset(s)"
                            + (k.getKey().equals(e.configuredKeyId()) ? " (configured)" : ""))
                    .collect(java.util.stream.Collectors.joining(", ")));
        }

        if (r.bucket() != null) {
            StatusReport.BucketStatus b = r.bucket();
            out().println();
            out().println("S3 bucket" + (b.isRepository() ? " (the repository read here)" : " (offsite copy)"));
            row("location", b.location());
            row("reachable", b.reachable() ? "yes" : "no: " + b.error());
            if (b.reachable()) {
                row("writable", Boolean.TRUE.equals(b.writable()) ? "yes" : "no: " + b.error());
                row("newest WAL", (b.newestWal() == null ? "none" : b.newestWal())
                        + (b.isRepository() ? "" : " (here " + (b.localNewestWal() == null ? "none" : b.localNewestWal())
                        + (b.walMissing() > 0 ? ", " + b.walMissing() + " file(s) not copied yet" : ", all copied") + ")"));
                row("newest backup", (b.newestBackup() == null ? "none" : b.newestBackup())
                        + (b.isRepository() ? "" : " (here " + (b.localNewestBackup() == null ? "none" : b.localNewestBackup())
                        + (b.backupsMissing() > 0 ? ", " + b.backupsMissing() + " not copied yet" : ", all copied") + ")"));
            }
        }

        out().println();
        out().println("Disk");
        row("repository", r.disk().repositoryBytes() < 0 ? "unknown" : Format.bytes(r.disk().repositoryBytes()));
        row("free", r.disk().freeBytes() < 0 ? "unknown"
                : Format.bytes(r.disk().freeBytes()) + " of " + Format.bytes(r.disk().totalBytes()));
        return 0;
    }

    /** When a backup was last verified and last proven to restore (verify --restore-test). */
    private static String proof(StatusReport.BackupVerification v, java.time.OffsetDateTime now) {
        String verified = v.lastVerified() == null ? "never verified"
                : "verified " + Format.age(java.time.Duration.between(v.lastVerified(), now)) + " ago"
                + (Boolean.TRUE.equals(v.lastVerifyOk()) ? "" : " (FAILED)");
        String proven;
        if (v.lastRestoreTest() == null) {
            proven = "never restore-tested";
        } else if (Boolean.TRUE.equals(v.lastRestoreTestOk())) {
            proven = "proven by a restore test " + Format.age(java.time.Duration.between(v.provenAt(), now)) + " ago (took "
                    + Format.duration(v.restoreTestDuration()) + ")";
        } else {
            proven = "last restore test FAILED " + Format.age(java.time.Duration.between(v.lastRestoreTest(), now)) + " ago";
        }
        return verified + ", " + proven;
    }

    private void row(String label, String value) {
        out().printf("  %-16s %s%n", label, value == null ? "(not set)" : value);
    }
}
