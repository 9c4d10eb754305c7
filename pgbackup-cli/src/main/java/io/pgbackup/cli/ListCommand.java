package io.pgbackup.cli;

import picocli.CommandLine.Command;

@Command(name = "list", description = "List the backups in the repository.")
final class ListCommand extends BaseCommand {
    @Override
    protected int execute() {
        throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "'list' is not built yet");
    }
}
