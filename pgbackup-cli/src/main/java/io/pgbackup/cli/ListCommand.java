package io.pgbackup.cli;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Instant;
import java.util.List;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List the backups in the repository, newest last.")
final class ListCommand extends BaseCommand {
    @picocli.CommandLine.Mixin
    RepoOption repo;

    @Option(names = "--json", description = "Print the backups as a JSON array.")
    boolean json;

    @Override
    protected int execute() {
        io.pgbackup.core.PgBackup pg = pgBackup();
        List<BackupInfo> backups = pg.backups().list();
        if (json) {
            printJson(backups);
            return 0;
        }
        if (backups.isEmpty()) {
            out().println("no backups yet in " + pg.repositoryLocation() + " (run 'pgbackup backup')");
            return 0;
        }
        Instant now = Instant.now();
        out().printf("%-15s  %-4s  %7s  %10s  %9s  %-49s  %s%n", "ID", "TYPE", "AGE", "SIZE", "DURATION", "WAL RANGE", "POSTGRESQL");
        for (BackupInfo b : backups) {
            BackupManifest m = b.manifest();
            out().printf("%-15s  %-4s  %7s  %10s  %9s  %-49s  %s%n", b.id(), m.type(), Format.age(b.age(now)),
                    Format.bytes(b.storedBytes()), Format.duration(m.duration()),
                    m.startWalFile() + ".." + m.stopWalFile(), m.postgresVersion() + (m.fromStandby() ? " (standby)" : ""));
            if (m.isIncremental()) {
                out().println("  " + m.type() + " on " + m.parent() + ", chain: " + String.join(" > ", m.chain()) + " > " + b.id());
            }
            if (!m.tablespaces().isEmpty()) {
                out().println("  tablespaces: " + Format.tablespaces(m.tablespaces()));
            }
        }
        return 0;
    }
}
