package io.pgbackup.cli;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.storage.Compression;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Optional;

@Command(name = "backup", mixinStandardHelpOptions = true, description = {
        "Take a base backup over the replication protocol (tar, compressed, streamed WAL, manifest).",
        "pgbackup speaks BASE_BACKUP itself, as pg_basebackup -Ft -X stream does, and stores the compressed tars "
                + "directly in the repository; it needs no PostgreSQL programs on this machine."})
final class BackupCommand extends BaseCommand {
    @Option(names = "--compress", paramLabel = "METHOD",
            description = "Compression of the tar files (default: PG_BACKUP_COMPRESS, else gzip).")
    String compress;

    @Option(names = "--checkpoint", paramLabel = "fast|spread", defaultValue = "fast",
            description = "fast (default): start at once; spread: gentler on a busy server.")
    String checkpoint;

    @picocli.CommandLine.Mixin
    ProgressOption progress;

    @Option(names = "--json", description = "Print the new backup as JSON.")
    boolean json;

    @Override
    protected int execute() {
        if (!checkpoint.equals("fast") && !checkpoint.equals("spread")) {
            throw new picocli.CommandLine.ParameterException(spec(), "--checkpoint must be fast or spread, not '" + checkpoint + "'");
        }
        PgBackup pg = pgBackup();
        BackupOptions options = BackupOptions.defaults().withFastCheckpoint(checkpoint.equals("fast"));
        if (compress != null) {
            options = options.withCompression(Compression.parse("--compress", compress));
        }
        ProgressBar bar = progress.bar("backup", err());
        BackupInfo backup = pg.backups().backup(options.withProgressListener(bar));
        if (!json || Boolean.TRUE.equals(progress.progress)) {
            bar.finish();
        }
        if (json) {
            printJson(backup);
        } else {
            out().printf("backup %s complete: %s stored (database %s) in %s, %s, WAL %s..%s%s%n", backup.id(),
                    Format.bytes(backup.storedBytes()), Format.bytes(backup.manifest().databaseSizeBytes()),
                    Format.duration(backup.manifest().duration()), Format.rate(backup.throughputBytesPerSecond()),
                    backup.manifest().startWalFile(), backup.manifest().stopWalFile(),
                    backup.manifest().fromStandby() ? ", from a standby on timeline " + backup.manifest().timeline() : "");
            backup.warnings().forEach(w -> err().println("pgbackup: warning: " + w));
        }
        return 0;
    }
}
