package io.pgbackup.core;

import io.pgbackup.core.archive.ArchiveSetup;
import io.pgbackup.core.archive.DefaultArchiveSetup;
import io.pgbackup.core.backup.BackupManager;
import io.pgbackup.core.backup.DefaultBackupManager;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.postgres.PgBinaries;
import io.pgbackup.core.postgres.PgConnector;
import io.pgbackup.core.process.CommonsExecProcessRunner;
import io.pgbackup.core.process.ProcessRunner;
import io.pgbackup.core.restore.DefaultRestorePlanner;
import io.pgbackup.core.restore.RestorePlanner;
import io.pgbackup.core.retention.DefaultRetentionPolicy;
import io.pgbackup.core.retention.RetentionPolicy;
import io.pgbackup.core.schedule.JobScheduler;
import io.pgbackup.core.status.DefaultStatusReporter;
import io.pgbackup.core.status.StatusReporter;
import io.pgbackup.core.storage.Repository;
import io.pgbackup.core.sync.InlineSyncBackupManager;
import io.pgbackup.core.sync.RemoteSyncer;
import io.pgbackup.core.sync.RsyncRemoteSyncer;
import io.pgbackup.core.verify.DefaultVerifier;
import io.pgbackup.core.verify.Verifier;

import java.time.Clock;
import java.util.Objects;

/**
 * The front door of the library. One object per repository; its accessors are the commands.
 *
 * <pre>{@code
 * PgBackup pg = PgBackup.create(PgBackupConfig.fromEnvironment());
 * BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
 * }</pre>
 *
 * Every side effect goes through the seams in {@link Builder}: a {@link Clock}, a
 * {@link ProcessRunner} and the PostgreSQL binaries, so an embedder or a test can supply its own.
 */
public final class PgBackup {
    private final PgBackupContext context;

    private PgBackup(PgBackupContext context) {
        this.context = context;
    }

    public static PgBackup create(PgBackupConfig config) {
        return builder(config).build();
    }

    public static Builder builder(PgBackupConfig config) {
        return new Builder(config);
    }

    public PgBackupConfig config() {
        return context.config();
    }

    public PgBackupContext context() {
        return context;
    }

    public Repository repository() {
        return context.repository();
    }

    /** {@code init}: the repository layout, the archive and restore scripts, the cluster's settings. */
    public ArchiveSetup archiveSetup() {
        return new DefaultArchiveSetup(context);
    }

    /** Backups; with a remote configured, each new backup is also copied there (failure: a warning). */
    public BackupManager backups() {
        BackupManager local = new DefaultBackupManager(context);
        return context.config().remote().isPresent() ? new InlineSyncBackupManager(local, remoteSyncer()) : local;
    }

    public RestorePlanner restorePlanner() {
        return new DefaultRestorePlanner(context);
    }

    public Verifier verifier() {
        return new DefaultVerifier(context);
    }

    public RetentionPolicy retentionPolicy() {
        return new DefaultRetentionPolicy(context);
    }

    public RemoteSyncer remoteSyncer() {
        return new RsyncRemoteSyncer(context);
    }

    /** {@code schedule}: cron or launchd job definitions for backup, cleanup and sync. */
    public JobScheduler scheduler() {
        return new JobScheduler(context);
    }

        public StatusReporter status() {
        return new DefaultStatusReporter(context);
    }

    /** Seams for embedders and tests; every one has a production default. */
    public static final class Builder {
        private final PgBackupConfig config;
        private Clock clock = Clock.systemDefaultZone();
        private ProcessRunner processRunner = new CommonsExecProcessRunner();
        private PgBinaries binaries;

        private Builder(PgBackupConfig config) {
            this.config = Objects.requireNonNull(config, "config");
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock);
            return this;
        }

        public Builder processRunner(ProcessRunner processRunner) {
            this.processRunner = Objects.requireNonNull(processRunner);
            return this;
        }

        /** Use these PostgreSQL programs instead of discovering them. */
        public Builder binaries(PgBinaries binaries) {
            this.binaries = Objects.requireNonNull(binaries);
            return this;
        }

        public PgBackup build() {
            PgBinaries fixed = binaries;
            Lazy<PgBinaries> found = new Lazy<>(() -> fixed != null ? fixed : PgBinaries.discover(config.pgBin()));
            return new PgBackup(new PgBackupContext(config, clock, processRunner, found, new PgConnector(config)));
        }
    }

    private static final class Lazy<T> implements java.util.function.Supplier<T> {
        private final java.util.function.Supplier<T> source;
        private T value;

        Lazy(java.util.function.Supplier<T> source) {
            this.source = source;
        }

        @Override
        public synchronized T get() {
            if (value == null) {
                value = source.get();
            }
            return value;
        }
    }
}
