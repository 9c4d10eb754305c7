package io.pgbackup.cli;

import picocli.CommandLine.Command;

@Command(name = "restore", description = "Restore a backup, optionally to a point in time.")
final class RestoreCommand extends BaseCommand {
    @Override
    protected int execute() {
        throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "'restore' is not built yet");
    }
}
