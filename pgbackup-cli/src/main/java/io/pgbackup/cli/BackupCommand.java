package io.pgbackup.cli;

import picocli.CommandLine.Command;

@Command(name = "backup", description = "Take a base backup with pg_basebackup.")
final class BackupCommand extends BaseCommand {
    @Override
    protected int execute() {
        throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "'backup' is not built yet");
    }
}
