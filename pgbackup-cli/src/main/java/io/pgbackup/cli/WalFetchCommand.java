package io.pgbackup.cli;

import io.pgbackup.core.PgBackupException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;

@Command(name = "wal-fetch", description = {
        "Write one archived WAL file, decompressed, to PATH: a restore_command helper (restore_wal.sh runs it",
        "for a file it has neither prefetched nor in a local archive, with --repo s3).",
        "Exit codes as restore_command wants them: 0 written, 1 not in the archive, 2 usage, 126 cannot fetch."})
final class WalFetchCommand extends BaseCommand {
    @picocli.CommandLine.Mixin
    RepoOption repo;

    @Parameters(index = "0", paramLabel = "NAME", description = "The WAL file name (%f).")
    String name;

    @Parameters(index = "1", paramLabel = "PATH", description = "Where to write it (%p), relative to the current directory.")
    Path dest;

    @Override
    protected io.pgbackup.core.PgBackup.RepositorySource repositorySource() {
        return repo.source();
    }

    @Override
    protected boolean announceRepository() {
        return false;
    }

    @Override
    protected int execute() {
        try {
            return pgBackup().fetchWal(name, dest.toAbsolutePath()) ? 0 : 1;
        } catch (PgBackupException e) {
            if (e.code().isUsageError()) {
                throw e;
            }
            err().println("pgbackup: " + e.getMessage());
            return 126;
        }
    }
}
