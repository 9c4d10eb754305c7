package io.pgbackup.cli;

import io.pgbackup.core.sync.SyncResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "sync", description = {
        "Copy the WAL archive and base backups to PG_BACKUP_REMOTE_HOST with rsync over SSH.",
        "Only adds and updates: nothing is ever deleted on the remote, so it keeps history cleanup removed here."})
final class SyncCommand extends BaseCommand {
    @Option(names = "--dry-run", description = "List what would be copied (rsync -n) and change nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print the summary as JSON.")
    boolean json;

    @Override
    protected int execute() {
        SyncResult result = pgBackup().remoteSyncer().sync(dryRun);
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
