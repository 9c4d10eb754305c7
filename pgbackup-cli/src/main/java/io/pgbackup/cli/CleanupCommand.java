package io.pgbackup.cli;

import picocli.CommandLine.Command;

@Command(name = "cleanup", description = "Apply the retention policy.")
final class CleanupCommand extends BaseCommand {
    @Override
    protected int execute() {
        throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "'cleanup' is not built yet");
    }
}
