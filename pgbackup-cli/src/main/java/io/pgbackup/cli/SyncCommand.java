package io.pgbackup.cli;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.sync.RemoteSyncer;
import io.pgbackup.core.sync.RemoteSyncer.SyncResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "sync", mixinStandardHelpOptions = true, description = {
        "Copy the WAL archive and base backups offsite.",
        "Copies to the S3 bucket (PG_BACKUP_S3_BUCKET) and/or to PG_BACKUP_REMOTE_HOST with rsync over SSH: "
                + "WAL first, each backup's manifest last.",
        "Only adds: nothing is ever deleted there by sync, so it keeps history cleanup removed here."})
final class SyncCommand extends BaseCommand {
    @Option(names = "--dry-run", description = "List what would be copied and change nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print the summary as JSON.")
    boolean json;

    @Option(names = "--wal-only", description = "Only the WAL archive (what archive_wal.sh starts in the background).")
    boolean walOnly;

    @picocli.CommandLine.Mixin
    ProgressOption progress;

    @Option(names = "--to", paramLabel = "s3|remote", description = "Only this target (default: every configured one).")
    String to;

    @Override
    protected int execute() {
        PgBackup pg = pgBackup();
        RemoteSyncer syncer = to == null ? pg.remoteSyncer() : switch (to) {
            case "s3" -> pg.s3Syncer();
            case "remote", "rsync" -> pg.rsyncSyncer();
            default -> throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT,
                    "--to '" + to + "' is not s3 or remote");
        };
        ProgressBar bar = progress.bar("sync", err());
        SyncResult result = walOnly ? syncer.syncWal(dryRun, bar) : syncer.sync(dryRun, bar);
        if (!dryRun && (!json || Boolean.TRUE.equals(progress.progress))) {
            bar.finish();
        }
        if (json) {
            printJson(result);
            return 0;
        }
        if (dryRun) {
            result.files().forEach(f -> out().println("would copy " + f));
            out().printf("dry run: %d file(s), %s would be copied to %s; nothing was changed%n", result.filesTransferred(),
                    Format.bytes(result.bytesTransferred()), result.target());
        } else {
            out().printf("synced to %s: %d file(s), %s copied in %s%n", result.target(), result.filesTransferred(),
                    Format.bytes(result.bytesTransferred()), Format.duration(result.duration()));
        }
        return 0;
    }
}
