package io.pgbackup.core;

import io.pgbackup.core.archive.ArchiveSetup;
import io.pgbackup.core.archive.WalArchiver;
import io.pgbackup.core.backup.BackupManager;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.postgres.PgBinaries;
import io.pgbackup.core.process.ProcessRunner;
import io.pgbackup.core.restore.RestorePlanner;
import io.pgbackup.core.retention.RetentionPolicy;
import io.pgbackup.core.schedule.JobScheduler;
import io.pgbackup.core.status.StatusReporter;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.sync.RemoteSyncer;
import io.pgbackup.core.verify.Verifier;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * The front door of the library. One object per repository; its accessors are the commands.
 *
 * <pre>{@code
 * PgBackup pg = PgBackup.create(PgBackupConfig.fromEnvironment());
 * BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
 * }</pre>
 *
 * Every side effect goes through the seams in {@link Builder}: a {@link Clock}, a
 * {@link ProcessRunner}, the PostgreSQL binaries and the {@link Storage}; and each of the five
 * services can be replaced (or decorated), the others then reaching it through its interface.
 *
 * <p>An interface so that the API never names the implementation: the library's own
 * {@link Provider} (in {@code io.pgbackup.core.internal}) is found with {@link ServiceLoader},
 * as pgbackup-s3's {@code BucketProvider} is.
 */
public interface PgBackup {
    static PgBackup create(PgBackupConfig config) {
        return builder(config).build();
    }

    static Builder builder(PgBackupConfig config) {
        return new Builder(config);
    }

    /**
     * After every CLI command: builds the repository's {@link io.pgbackup.core.health.Health} from {@code env} only when a
     * notify command or a metrics file is configured for {@code command}. Never fails the command:
     * a problem here becomes a warning line.
     */
    static List<String> afterCommand(java.util.Map<String, String> env, String command, boolean ok, String message) {
        io.pgbackup.core.health.HealthSettings settings;
        try {
            settings = io.pgbackup.core.health.HealthSettings.fromEnvironment(env);
        } catch (RuntimeException e) {
            return ok ? List.of(e.getMessage()) : List.of();
        }
        if (!settings.wantsOutcome(command)) {
            return List.of();
        }
        PgBackup pg;
        try {
            pg = PgBackup.create(PgBackupConfig.fromEnvironment(env));
        } catch (RuntimeException e) {
            return List.of();
        }
        return pg.health().afterCommand(command, ok, message, settings);
    }

    PgBackupConfig config();

    /** Where the repository's objects are, for messages: a directory or an {@code s3://} URL. */
    String repositoryLocation();

    /** Whether this instance reads and writes the configured bucket as its repository (recovery from the bucket). */
    boolean readsBucket();

    /** {@code init}: the repository layout, the archive and restore scripts, the cluster's settings. */
    ArchiveSetup archiveSetup();

    /** Backups; with a remote configured, each new backup is also copied there (failure: a warning). */
    BackupManager backups();

    RestorePlanner restorePlanner();

    Verifier verifier();

    RetentionPolicy retentionPolicy();

    /** {@code sync}: every configured offsite copy (the S3 bucket, then the rsync remote). */
    RemoteSyncer remoteSyncer();

    /** The offsite copy in the S3 bucket alone ({@code sync --to s3}). */
    RemoteSyncer s3Syncer();

    /** The rsync copy alone ({@code sync --to remote}). */
    RemoteSyncer rsyncSyncer();

    /**
     * {@code wal-fetch}: one archived WAL file decompressed to {@code dest}, as restore_command
     * needs it; false when the repository does not hold it.
     */
    boolean fetchWal(String name, Path dest);

    /**
     * Recovery of the cluster in {@code pgData}, restored by {@code restore}, ended: its restore
     * marker goes, so cleanup no longer keeps what replay needed (restore_wal.sh runs this for a
     * restore from the bucket; for a local repository it removes the marker itself).
     */
    void endRestore(Path pgData);

    /**
     * The archiver ({@code pgbackup archiver}, started by archive_wal.sh in async mode): stores into
     * the repository, or into the bucket alone with {@code PG_BACKUP_ARCHIVER_REPO=s3}; copies each
     * archived file to the offsite targets.
     */
    WalArchiver archiver();

    /**
     * {@code wal-fetch --ahead}: keeps the {@code window} segments after {@code after} (a segment
     * restore_command just restored, of {@code segmentSize} bytes) decompressed in {@code dir} while
     * recovery takes them; returns how many it fetched.
     */
    int prefetchWal(String after, long segmentSize, int window, Path dir);

    /** {@code schedule}: cron or launchd job definitions for backup, cleanup and sync. */
    JobScheduler scheduler();

    StatusReporter status();

    /** {@code report}: backups, the archived WAL with its gaps, the recoverable window, the status verdict's reasons. */
    io.pgbackup.core.report.ReportModel report();

    /** {@code check}, {@code metrics} and notifications, from one status snapshot. */
    io.pgbackup.core.health.Health health();

    /** Encryption at rest: key generation and the {@code decrypt} escape hatch (issue 17). */
    io.pgbackup.core.crypto.Encryption encryption();

    /** Where a command reads and writes the repository's objects. */
    enum RepositorySource {
        /** The directory {@code PG_BACKUP_DIR} (the default). */
        LOCAL,
        /** The S3 bucket of {@code PG_BACKUP_S3_*}: recovery on a machine without the local repository. */
        S3,
        /** The local repository when it is initialized, else the bucket when one is configured. */
        AUTO
    }

    /**
     * What a {@link Builder} collected, handed to the {@link Provider}; {@code null} means the
     * production default (a replacement function receives the default service).
     */
    record Seams(PgBackupConfig config, Clock clock, ProcessRunner processRunner, PgBinaries binaries, Storage storage,
                 String crontabProgram, Storage bucket, RepositorySource source, List<String> launcher,
                 Function<BackupManager, BackupManager> backups, Function<RestorePlanner, RestorePlanner> restorePlanner,
                 Function<Verifier, Verifier> verifier, Function<RetentionPolicy, RetentionPolicy> retentionPolicy,
                 Function<RemoteSyncer, RemoteSyncer> remoteSyncer) {
    }

    /**
     * The implementation behind {@link #builder}: pgbackup-core's own, registered in
     * {@code META-INF/services}. A service-provider seam, not something embedders implement.
     */
    interface Provider {
        PgBackup create(Seams seams);
    }

    /**
     * Seams for embedders and tests; every one has a production default. A service replacement is
     * a function of the default one, so it can decorate it ({@code backups(d -> new Logging(d))})
     * or ignore it.
     */
    final class Builder {
        private final PgBackupConfig config;
        private Clock clock = Clock.systemDefaultZone();
        private ProcessRunner processRunner;
        private PgBinaries binaries;
        private Storage storage;
        private String crontabProgram = "crontab";
        private Storage bucket;
        private RepositorySource source = RepositorySource.LOCAL;
        private List<String> launcher = List.of();
        private Function<BackupManager, BackupManager> backups;
        private Function<RestorePlanner, RestorePlanner> restorePlanner;
        private Function<Verifier, Verifier> verifier;
        private Function<RetentionPolicy, RetentionPolicy> retentionPolicy;
        private Function<RemoteSyncer, RemoteSyncer> remoteSyncer;

        private Builder(PgBackupConfig config) {
            this.config = Objects.requireNonNull(config, "config");
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock);
            return this;
        }

        /** How external programs run; by default commons-exec, with output captured and a timeout per program. */
        public Builder processRunner(ProcessRunner processRunner) {
            this.processRunner = Objects.requireNonNull(processRunner);
            return this;
        }

        /** Use these PostgreSQL programs instead of discovering them. */
        public Builder binaries(PgBinaries binaries) {
            this.binaries = Objects.requireNonNull(binaries);
            return this;
        }

        /** The {@code crontab} program {@code schedule --install} runs (a path, or a name looked up on PATH). */
        public Builder crontabProgram(String program) {
            this.crontabProgram = Objects.requireNonNull(program);
            return this;
        }

        /** Where the repository's objects live; by default files below {@code PG_BACKUP_DIR}. */
        public Builder storage(Storage storage) {
            this.storage = Objects.requireNonNull(storage);
            return this;
        }

        /**
         * The offsite bucket; by default pgbackup-s3's {@code S3Storage} for {@code PG_BACKUP_S3_*}
         * (found through {@link io.pgbackup.core.storage.BucketProvider}), with credentials from the
         * AWS SDK's default chain.
         */
        public Builder bucket(Storage bucket) {
            this.bucket = Objects.requireNonNull(bucket);
            return this;
        }

        /** Which repository the commands use when no {@link #storage(Storage)} is given; default {@link RepositorySource#LOCAL}. */
        public Builder repositorySource(RepositorySource source) {
            this.source = Objects.requireNonNull(source);
            return this;
        }

        /**
         * The command that runs pgbackup ({@code /opt/pgbackup/bin/pgbackup}, or {@code java -jar ...}):
         * the archive script starts {@code sync --wal-only} with it, and restore_wal.sh fetches WAL
         * from the bucket with it. Empty (embedded): {@code pgbackup} on the scripts' PATH.
         */
        public Builder launcher(List<String> launcher) {
            this.launcher = List.copyOf(launcher);
            return this;
        }

        public Builder backups(Function<BackupManager, BackupManager> replacement) {
            this.backups = Objects.requireNonNull(replacement);
            return this;
        }

        public Builder restorePlanner(Function<RestorePlanner, RestorePlanner> replacement) {
            this.restorePlanner = Objects.requireNonNull(replacement);
            return this;
        }

        public Builder verifier(Function<Verifier, Verifier> replacement) {
            this.verifier = Objects.requireNonNull(replacement);
            return this;
        }

        public Builder retentionPolicy(Function<RetentionPolicy, RetentionPolicy> replacement) {
            this.retentionPolicy = Objects.requireNonNull(replacement);
            return this;
        }

        /** Replaces the rsync syncer; {@code replacement} receives the default one. */
        public Builder remoteSyncer(Function<RemoteSyncer, RemoteSyncer> replacement) {
            this.remoteSyncer = Objects.requireNonNull(replacement);
            return this;
        }

        public PgBackup build() {
            return provider().create(new Seams(config, clock, processRunner, binaries, storage, crontabProgram, bucket, source,
                    launcher, backups, restorePlanner, verifier, retentionPolicy, remoteSyncer));
        }

        private static Provider provider() {
            Iterator<Provider> found = ServiceLoader.load(Provider.class, PgBackup.class.getClassLoader()).iterator();
            if (!found.hasNext()) {
                throw new IllegalStateException("pgbackup-core's META-INF/services/" + Provider.class.getName()
                        + " is missing: a repackaged jar must keep service files (e.g. maven-shade's ServicesResourceTransformer)");
            }
            return found.next();
        }
    }
}
