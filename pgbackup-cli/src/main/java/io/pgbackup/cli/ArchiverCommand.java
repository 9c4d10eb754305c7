package io.pgbackup.cli;

import io.pgbackup.core.archive.WalArchiver.ArchiverRun;
import io.pgbackup.core.archive.WalArchiver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

@Command(name = "archiver", mixinStandardHelpOptions = true, description = {
        "Run the asynchronous WAL archiver for one cluster.",
        "It looks ahead over pg_wal/archive_status/*.ready, compresses and stores several files at once, and "
                + "acknowledges each to archive_wal.sh once it is durable. archive_wal.sh starts it "
                + "(PG_BACKUP_ARCHIVER=async); it exits after PG_BACKUP_ARCHIVER_IDLE_EXIT seconds with nothing to do.",
        "Exits 0 at once when another archiver runs for this repository."})
final class ArchiverCommand extends BaseCommand {
    @Option(names = "--pgdata", required = true, paramLabel = "DIR", description = "The cluster's data directory (PostgreSQL runs archive_command in it).")
    Path pgData;

    @Option(names = "--spool", paramLabel = "DIR", description = "Where archive_wal.sh waits for acknowledgements (it passes its own; default: the repository's spool for this PGDATA).")
    Path spool;

    @Override
    protected int execute() {
        WalArchiver.requireDataDirectory("--pgdata", pgData);
        io.pgbackup.core.PgBackup pg = pgBackup();
        ArchiverRun run;
        try (var watch = pg.health().watchArchiver(settings().asMap(),
                w -> err().println("pgbackup: warning: " + w))) {
            run = spool == null ? pg.archiver().run(pgData.toAbsolutePath())
                    : pg.archiver().run(pgData.toAbsolutePath(), spool.toAbsolutePath());
        }
        if (run.alreadyRunning()) {
            err().println("pgbackup: another archiver runs for this repository; nothing to do");
        }
        return 0;
    }
}
