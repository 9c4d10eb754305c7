package io.pgbackup.core.internal;

import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.postgres.PgBinaries;
import io.pgbackup.core.internal.postgres.PgConnector;
import io.pgbackup.core.process.ProcessRunner;
import io.pgbackup.core.internal.storage.Repository;

import io.pgbackup.core.storage.Storage;

import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The seams every service is built on: configuration, the repository layout, the clock, the
 * process runner, PostgreSQL's programs (found on first use, so {@code list} works on a machine
 * without them), the JDBC connector, the S3 bucket when one is configured, and the command that
 * runs pgbackup (for scripts that call back into it; empty when embedded). One per {@link PgBackup}; no static state anywhere.
 */
public record PgBackupContext(PgBackupConfig config, Clock clock, ProcessRunner processRunner,
                              Supplier<PgBinaries> binariesSupplier, PgConnector connector,
                              Supplier<Repository> repositorySupplier, Supplier<Optional<Storage>> bucketSupplier,
                              List<String> launcher) {
    public PgBackupContext {
        Objects.requireNonNull(config);
        Objects.requireNonNull(clock);
        Objects.requireNonNull(processRunner);
        Objects.requireNonNull(binariesSupplier);
        Objects.requireNonNull(connector);
        Objects.requireNonNull(repositorySupplier);
        Objects.requireNonNull(bucketSupplier);
        launcher = List.copyOf(launcher);
    }

    /** Without a bucket, and no launcher for the scripts. */
    public PgBackupContext(PgBackupConfig config, Clock clock, ProcessRunner processRunner,
                           Supplier<PgBinaries> binariesSupplier, PgConnector connector,
                           Supplier<Repository> repositorySupplier) {
        this(config, clock, processRunner, binariesSupplier, connector, repositorySupplier, Optional::empty, List.of());
    }

    /**
     * The S3 bucket of {@code PG_BACKUP_S3_*} (opened on first use), empty when none is configured:
     * the offsite copy's target. When the repository itself was chosen to be the bucket, the same object.
     */
    public Optional<Storage> bucket() {
        return bucketSupplier.get();
    }

    /** The bucket, or a clear line saying how to configure one. */
    public Storage requireBucket() {
        return bucket().orElseThrow(() -> new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_CONFIG,
                PgBackupConfig.PG_BACKUP_S3_BUCKET + " is not set: set it (and PG_BACKUP_S3_ENDPOINT for a server other"
                        + " than AWS) to use an S3 bucket"));
    }

    /** The repository at {@code PG_BACKUP_DIR}; fails with a clear line when it is not set. */
    public Repository repository() {
        return repositorySupplier.get();
    }

    public PgBinaries binaries() {
        return binariesSupplier.get();
    }
}
