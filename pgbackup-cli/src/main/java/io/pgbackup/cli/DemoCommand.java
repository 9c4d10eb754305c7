package io.pgbackup.cli;

import picocli.CommandLine.Command;

@Command(name = "demo", description = "Archive, back up and restore a throwaway local cluster to a point in time.")
final class DemoCommand extends BaseCommand {
    @Override
    protected int execute() {
        throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "'demo' is not built yet");
    }
}
