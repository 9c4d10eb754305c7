package io.pgbackup.cli;

import io.pgbackup.core.verify.VerifyReport.BackupVerdict;
import io.pgbackup.core.verify.VerifyReport.VerifyCheck;
import io.pgbackup.core.verify.VerifyReport;
import io.pgbackup.core.verify.VerifyRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Optional;

@Command(name = "verify", mixinStandardHelpOptions = true, description = {
        "Verify backups and the WAL archive.",
        "Checks the checksums of every stored file and of every file inside the tars, reads each compressed stream "
                + "to its end, and checks that the archived WAL is continuous from the backup on.",
        "With no ID: the newest backup. Exit code 1 when any backup fails."})
final class VerifyCommand extends BaseCommand {
    @picocli.CommandLine.Mixin
    RepoOption repo;

    @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "Backup id (see 'pgbackup list').")
    String id;

    @Option(names = "--all", description = "Verify every backup, one verdict each.")
    boolean all;

    @Option(names = "--restore-test", description = {"Also restore each backup into a temporary directory, start PostgreSQL on it"
            + " (archiving off, no TCP), wait for recovery, run a sanity query and pg_amcheck, then remove it."})
    boolean restoreTest;

    @Option(names = "--restore-test-dir", paramLabel = "DIR",
            description = "Where the temporary copy goes; it needs the database's size free (default: java.io.tmpdir).")
    Path restoreTestDir;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @picocli.CommandLine.Mixin
    ProgressOption progress;

    @Override
    protected int execute() {
        if (all && id != null) {
            throw new picocli.CommandLine.ParameterException(spec(), "give a backup ID or --all, not both");
        }
        VerifyRequest request = new VerifyRequest(Optional.ofNullable(id), all, restoreTest, Optional.ofNullable(restoreTestDir), null);
        ProgressBar bar = progress.bar("verify", err());
        VerifyReport report = pgBackup().verifier().verify(request, json ? v -> { } : v -> {
            bar.clear(); // the verdict lines go between the bar's redraws, each on a line of its own
            printVerdict(v);
        }, bar);
        bar.clear();
        if (json) {
            printJson(report);
        } else {
            report.warnings().forEach(w -> out().println("warning: " + w));
            if (report.backups().size() > 1) {
                out().printf("%d of %d backups passed in %s%n", report.backups().size() - report.failed().size(),
                        report.backups().size(), Format.duration(report.duration()));
            }
        }
        for (BackupVerdict failed : report.failed()) {
            err().println("pgbackup: backup " + failed.backupId() + " failed verification: " + failed.firstFailure().orElse("?"));
        }
        // A failed verify ends with its one-line failures, as a failed backup or restore does; else the bar's last state or the summary line.
        if (report.ok() && (!json || Boolean.TRUE.equals(progress.progress))) {
            bar.finish();
        }
        return report.ok() ? 0 : 1;
    }

    private void printVerdict(BackupVerdict v) {
        out().printf("backup %s: %s (%s)%n", v.backupId(), v.ok() ? "OK" : "FAILED", Format.duration(v.duration()));
        for (VerifyCheck c : v.checks()) {
            out().printf("  %-4s  %-22s  %s (%s)%n", c.ok() ? "ok" : "FAIL", c.name(), c.detail(), Format.duration(c.duration()));
        }
    }
}
