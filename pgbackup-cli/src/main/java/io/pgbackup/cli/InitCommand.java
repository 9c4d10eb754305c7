package io.pgbackup.cli;

import picocli.CommandLine.Command;

@Command(name = "init", description = "Create the backup directories, install the WAL archive script, check PostgreSQL's settings.")
final class InitCommand extends BaseCommand {
    @Override
    protected int execute() {
        throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "'init' is not built yet");
    }
}
