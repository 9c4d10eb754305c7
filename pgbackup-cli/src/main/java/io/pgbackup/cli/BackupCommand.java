package io.pgbackup.cli;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.backup.BackupPlan;
import io.pgbackup.core.backup.BackupType;
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

    @Option(names = "--type", paramLabel = "full|diff|incr|auto", defaultValue = "full",
            description = "full (default); diff: changes since the newest full; incr: changes since the newest backup;"
                    + " auto: full when the newest full is PG_BACKUP_FULL_INTERVAL_DAYS (7) old or the chain"
                    + " PG_BACKUP_MAX_CHAIN (7) long, else incr.")
    String type;

    @Option(names = "--dry-run", description = "Print what the backup would be (type, parent, chain, why) and take none.")
    boolean dryRun;

    @Override
    protected int execute() {
        if (!checkpoint.equals("fast") && !checkpoint.equals("spread")) {
            throw new picocli.CommandLine.ParameterException(spec(), "--checkpoint must be fast or spread, not '" + checkpoint + "'");
        }
        BackupType backupType;
        try {
            backupType = BackupType.parse("--type", type);
        } catch (io.pgbackup.core.PgBackupException e) {
            throw new picocli.CommandLine.ParameterException(spec(), e.getMessage());
        }
        PgBackup pg = pgBackup();
        BackupOptions options = BackupOptions.defaults().withFastCheckpoint(checkpoint.equals("fast")).withType(backupType);
        if (dryRun) {
            BackupPlan plan = pg.backups().plan(options);
            if (json) {
                printJson(plan);
            } else {
                out().println("would take " + plan.describe());
            }
            return 0;
        }
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
            BackupManifest m = backup.manifest();
            out().printf("backup %s%s complete: %s stored (database %s) in %s, %s, WAL %s..%s%s%n", backup.id(),
                    m.isIncremental() ? " (" + m.type() + " on " + m.parent() + ", chain of " + (m.chain().size() + 1) + ")" : "",
                    Format.bytes(backup.storedBytes()), Format.bytes(backup.manifest().databaseSizeBytes()),
                    Format.duration(backup.manifest().duration()), Format.rate(backup.throughputBytesPerSecond()),
                    backup.manifest().startWalFile(), backup.manifest().stopWalFile(),
                    backup.manifest().fromStandby() ? ", from a standby on timeline " + backup.manifest().timeline() : "");
            backup.warnings().forEach(w -> err().println("pgbackup: warning: " + w));
        }
        return 0;
    }
}
