package io.pgbackup.cli;

import io.pgbackup.core.health.CheckReport;
import io.pgbackup.core.health.Health;
import io.pgbackup.core.health.HealthSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A Nagios/Icinga plugin: one line, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Unlike the
 * other commands, its own failures (bad flag, bad setting, repository unreadable) exit 3.
 */
@Command(name = "check", mixinStandardHelpOptions = true, description = {"Judge backups, archiving, verification and disk space against thresholds, as a"
        + " Nagios/Icinga plugin: one line with perf data; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        "Thresholds: PG_BACKUP_CHECK_BACKUP_AGE_HOURS, PG_BACKUP_CHECK_ARCHIVE_LAG_SECONDS, PG_BACKUP_CHECK_READY_FILES,"
        + " PG_BACKUP_CHECK_VERIFY_AGE_DAYS, PG_BACKUP_CHECK_FREE_PERCENT."})
final class CheckCommand extends BaseCommand {
    static final int UNKNOWN = 3;

    @Option(names = "--json", description = "Print the full report (state, summary, findings, perf data) as JSON.")
    boolean json;

    @Override
    protected int execute() {
        CheckReport report;
        try {
            HealthSettings settings = HealthSettings.fromEnvironment(settings().asMap());
            Health health = pgBackup().health();
            Health.Snapshot snapshot = health.snapshot(settings.thresholds());
            report = snapshot.check();
            health.observe(snapshot, settings).forEach(w -> err().println("pgbackup: warning: " + w));
        } catch (RuntimeException e) {
            report = CheckReport.unknown(e.getMessage() == null ? e.toString() : e.getMessage());
        }
        if (json) {
            printJson(report);
        } else {
            out().println(report.line());
        }
        return report.state().exitCode();
    }
}
