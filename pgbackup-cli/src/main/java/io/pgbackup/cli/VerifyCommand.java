package io.pgbackup.cli;

import picocli.CommandLine.Command;

@Command(name = "verify", description = "Verify backups and the WAL archive.")
final class VerifyCommand extends BaseCommand {
    @Override
    protected int execute() {
        throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "'verify' is not built yet");
    }
}
