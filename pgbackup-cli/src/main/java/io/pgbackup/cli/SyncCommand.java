package io.pgbackup.cli;

import picocli.CommandLine.Command;

@Command(name = "sync", description = "Copy base backups and the WAL archive to the remote host.")
final class SyncCommand extends BaseCommand {
    @Override
    protected int execute() {
        throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "'sync' is not built yet");
    }
}
