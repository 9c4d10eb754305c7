package io.pgbackup.cli;

import io.pgbackup.core.PgBackupException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;

@Command(name = "wal-fetch", mixinStandardHelpOptions = true, description = {
        "Write one archived WAL file, decompressed, to PATH (a restore_command helper).",
        "restore_wal.sh runs it for a file it has neither prefetched nor in a local archive, with --repo s3.",
        "Exit codes as restore_command wants them: 0 written, 1 not in the archive, 2 usage, 126 cannot fetch."})
final class WalFetchCommand extends BaseCommand {
    @picocli.CommandLine.Mixin
    RepoOption repo;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "The WAL file name (%%f).")
    String name;

    @picocli.CommandLine.Option(names = "--end-restore", paramLabel = "PGDATA", description = {
            "Instead of fetching: recovery of PGDATA ended, remove its restore marker from the repository"
            + " (restore_wal.sh --end-of-recovery runs this for a restore from the bucket)."})
    Path endRestore;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PATH", description = "Where to write it (%%p), relative to the current directory.")
    Path dest;

    @picocli.CommandLine.Option(names = "--ahead", paramLabel = "N", description = {
            "Instead of one file: keep the N segments after NAME (restored just now) decompressed in --into while"
            + " recovery takes them, several downloads at once (restore_wal.sh starts this in the background)."})
    Integer ahead;

    @picocli.CommandLine.Option(names = "--into", paramLabel = "DIR", description = "With --ahead: the prefetch directory, PGDATA/pg_wal/pgbackup_prefetch (no other, and never a link).")
    Path into;

    @picocli.CommandLine.Option(names = "--segment-size", paramLabel = "BYTES", defaultValue = "16777216",
            description = "With --ahead: the cluster's WAL segment size (default ${DEFAULT-VALUE}).")
    long segmentSize;

    @Override
    protected boolean announceRepository() {
        return false;
    }

    @Override
    protected int execute() {
        if (endRestore != null) {
            pgBackup().endRestore(endRestore.toAbsolutePath());
            return 0;
        }
        if (name == null) {
            throw new PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "wal-fetch NAME PATH: give the WAL file name (%f)");
        }
        if (ahead != null) {
            if (into == null || dest != null || ahead < 1) {
                throw new PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT,
                        "wal-fetch --ahead N needs --into DIR and no PATH, N at least 1: e.g. wal-fetch --ahead 32 --into pg_wal/pgbackup_prefetch NAME");
            }
            pgBackup().prefetchWal(name, segmentSize, ahead, into.toAbsolutePath());
            return 0;
        }
        if (dest == null) {
            throw new PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "wal-fetch NAME PATH: give the path to write to (%p)");
        }
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
