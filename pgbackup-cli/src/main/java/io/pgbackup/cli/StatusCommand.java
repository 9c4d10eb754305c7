package io.pgbackup.cli;

import picocli.CommandLine.Command;

@Command(name = "status", description = "Show archiving, backup and repository status.")
final class StatusCommand extends BaseCommand {
    @Override
    protected int execute() {
        throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "'status' is not built yet");
    }
}
