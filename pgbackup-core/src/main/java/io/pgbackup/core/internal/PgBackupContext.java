package io.pgbackup.core.internal;

import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.postgres.PgBinaries;
import io.pgbackup.core.internal.postgres.PgConnector;
import io.pgbackup.core.process.ProcessRunner;
import io.pgbackup.core.internal.storage.Repository;

import java.time.Clock;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The seams every service is built on: configuration, the repository layout, the clock, the
 * process runner, PostgreSQL's programs (found on first use, so {@code list} works on a machine
 * without them) and the JDBC connector. One per {@link PgBackup}; no static state anywhere.
 */
public record PgBackupContext(PgBackupConfig config, Clock clock, ProcessRunner processRunner,
                              Supplier<PgBinaries> binariesSupplier, PgConnector connector,
                              Supplier<Repository> repositorySupplier) {
    public PgBackupContext {
        Objects.requireNonNull(config);
        Objects.requireNonNull(clock);
        Objects.requireNonNull(processRunner);
        Objects.requireNonNull(binariesSupplier);
        Objects.requireNonNull(connector);
        Objects.requireNonNull(repositorySupplier);
    }

    /** The repository at {@code PG_BACKUP_DIR}; fails with a clear line when it is not set. */
    public Repository repository() {
        return repositorySupplier.get();
    }

    public PgBinaries binaries() {
        return binariesSupplier.get();
    }
}
