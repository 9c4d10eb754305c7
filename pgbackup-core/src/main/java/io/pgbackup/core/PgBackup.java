package io.pgbackup.core;

import io.pgbackup.core.internal.PgBackupContext;

import io.pgbackup.core.archive.ArchiveSetup;
import io.pgbackup.core.internal.archive.DefaultArchiveSetup;
import io.pgbackup.core.backup.BackupManager;
import io.pgbackup.core.internal.backup.DefaultBackupManager;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.postgres.PgBinaries;
import io.pgbackup.core.internal.postgres.PgConnector;
import io.pgbackup.core.internal.process.CommonsExecProcessRunner;
import io.pgbackup.core.process.ProcessRunner;
import io.pgbackup.core.internal.restore.DefaultRestorePlanner;
import io.pgbackup.core.restore.RestorePlanner;
import io.pgbackup.core.internal.retention.DefaultRetentionPolicy;
import io.pgbackup.core.retention.RetentionPolicy;
import io.pgbackup.core.schedule.JobScheduler;
import io.pgbackup.core.internal.status.DefaultStatusReporter;
import io.pgbackup.core.status.StatusReporter;
import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.internal.sync.OffsiteSyncer;
import io.pgbackup.core.internal.sync.S3Syncer;
import io.pgbackup.core.internal.storage.BucketProviders;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.internal.sync.InlineSyncBackupManager;
import io.pgbackup.core.sync.RemoteSyncer;
import io.pgbackup.core.internal.sync.RsyncRemoteSyncer;
import io.pgbackup.core.internal.verify.DefaultVerifier;
import io.pgbackup.core.verify.Verifier;

import java.time.Clock;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

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
 */
public final class PgBackup {
    private final PgBackupContext context;
    private final String crontabProgram;
    private final BackupManager backups;
    private final RestorePlanner restorePlanner;
    private final Verifier verifier;
    private final RetentionPolicy retentionPolicy;
    private final RemoteSyncer remoteSyncer;
    private final RemoteSyncer rsyncSyncer;
    private final RemoteSyncer s3Syncer;

    private PgBackup(Builder b, PgBackupContext context) {
        this.context = context;
        this.crontabProgram = b.crontabProgram;
        this.rsyncSyncer = b.remoteSyncer != null ? b.remoteSyncer.apply(context) : new RsyncRemoteSyncer(context);
        this.s3Syncer = new S3Syncer(context);
        java.util.List<RemoteSyncer> offsite = new java.util.ArrayList<>();
        boolean s3 = context.config().s3().isPresent() || b.bucket != null;
        // With the bucket as the repository (PG_BACKUP_ARCHIVER_REPO=s3) there is nothing to copy to it.
        if (s3 && !context.config().archiver().bucketOnly()) {
            offsite.add(s3Syncer);
        }
        if (context.config().remote().isPresent() || b.remoteSyncer != null) {
            offsite.add(rsyncSyncer);
        }
        this.remoteSyncer = new OffsiteSyncer(offsite, rsyncSyncer);
        BackupManager local = new DefaultBackupManager(context);
        BackupManager defaultBackups = context.config().remote().isPresent() || (s3 && !context.config().archiver().bucketOnly())
                ? new InlineSyncBackupManager(local, remoteSyncer) : local;
        this.backups = b.backups != null ? b.backups.apply(defaultBackups) : defaultBackups;
        DefaultRestorePlanner defaultPlanner = new DefaultRestorePlanner(context, backups);
        this.restorePlanner = b.restorePlanner != null ? b.restorePlanner.apply(defaultPlanner) : defaultPlanner;
        DefaultVerifier defaultVerifier = new DefaultVerifier(context, restorePlanner);
        this.verifier = b.verifier != null ? b.verifier.apply(defaultVerifier) : defaultVerifier;
        DefaultRetentionPolicy defaultRetention = new DefaultRetentionPolicy(context, backups);
        this.retentionPolicy = b.retentionPolicy != null ? b.retentionPolicy.apply(defaultRetention) : defaultRetention;
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

    /** The library's own seams, for its services; not part of the API. */
    PgBackupContext context() {
        return context;
    }

    /** The repository's layout and storage, for the library's own services; not part of the API. */
    Repository repository() {
        return context.repository();
    }

    /** Where the repository's objects are, for messages: a directory or an {@code s3://} URL. */
    public String repositoryLocation() {
        return context.repository().location();
    }

    /** Whether this instance reads and writes the configured bucket as its repository (recovery from the bucket). */
    public boolean readsBucket() {
        return context.bucket().map(b -> b == context.repository().storage()).orElse(false);
    }

    /** {@code init}: the repository layout, the archive and restore scripts, the cluster's settings. */
    public ArchiveSetup archiveSetup() {
        return new DefaultArchiveSetup(context);
    }

    /** Backups; with a remote configured, each new backup is also copied there (failure: a warning). */
    public BackupManager backups() {
        return backups;
    }

    public RestorePlanner restorePlanner() {
        return restorePlanner;
    }

    public Verifier verifier() {
        return verifier;
    }

    public RetentionPolicy retentionPolicy() {
        return retentionPolicy;
    }

    /** {@code sync}: every configured offsite copy (the S3 bucket, then the rsync remote). */
    public RemoteSyncer remoteSyncer() {
        return remoteSyncer;
    }

    /** The offsite copy in the S3 bucket alone ({@code sync --to s3}). */
    public RemoteSyncer s3Syncer() {
        return s3Syncer;
    }

    /** The rsync copy alone ({@code sync --to remote}). */
    public RemoteSyncer rsyncSyncer() {
        return rsyncSyncer;
    }

    /**
     * {@code wal-fetch}: one archived WAL file decompressed to {@code dest}, as restore_command
     * needs it; false when the repository does not hold it.
     */
    public boolean fetchWal(String name, java.nio.file.Path dest) {
        return new io.pgbackup.core.internal.archive.WalFetcher(context.repository()).fetch(name, dest);
    }

    /**
     * Recovery of the cluster in {@code pgData}, restored by {@code restore}, ended: its restore
     * marker goes, so cleanup no longer keeps what replay needed (restore_wal.sh runs this for a
     * restore from the bucket; for a local repository it removes the marker itself).
     */
    public void endRestore(java.nio.file.Path pgData) {
        try {
            io.pgbackup.core.internal.restore.RestoreMarkers.endFrom(context.repository(), pgData);
        } catch (java.io.IOException e) {
            throw Repository.ioFailure("cannot remove the restore marker of " + pgData, e);
        }
    }

    /**
     * The archiver ({@code pgbackup archiver}, started by archive_wal.sh in async mode): stores into
     * the repository, or into the bucket alone with {@code PG_BACKUP_ARCHIVER_REPO=s3}; copies each
     * archived file to the offsite targets.
     */
    public io.pgbackup.core.archive.WalArchiver archiver() {
        boolean bucketOnly = context.config().archiver().bucketOnly();
        Storage target = bucketOnly ? context.requireBucket() : context.repository().storage();
        java.util.Optional<Storage> offsite = bucketOnly || readsBucket() ? java.util.Optional.empty() : context.bucket();
        java.util.Optional<RemoteSyncer> rsync = !bucketOnly && context.config().remote().isPresent()
                ? java.util.Optional.of(rsyncSyncer) : java.util.Optional.empty();
        return new io.pgbackup.core.internal.archive.AsyncArchiver(context, target, offsite, rsync);
    }

    /**
     * {@code wal-fetch --ahead}: keeps the {@code window} segments after {@code after} (a segment
     * restore_command just restored, of {@code segmentSize} bytes) decompressed in {@code dir} while
     * recovery takes them; returns how many it fetched.
     */
    public int prefetchWal(String after, long segmentSize, int window, java.nio.file.Path dir) {
        var segment = io.pgbackup.core.internal.archive.WalSegmentName.parse(after, segmentSize).orElseThrow(() ->
                new PgBackupException(ErrorCode.INVALID_ARGUMENT, "'" + after + "' is not a WAL segment name of a "
                        + segmentSize + "-byte segment: give the segment just restored and its size"));
        try {
            return new io.pgbackup.core.internal.archive.WalPrefetcher(context.repository()).run(segment, window, dir).fetched();
        } catch (java.io.IOException e) {
            throw Repository.ioFailure("cannot prefetch WAL into " + dir, e);
        }
    }

    /** {@code schedule}: cron or launchd job definitions for backup, cleanup and sync. */
    public JobScheduler scheduler() {
        return new JobScheduler(context, crontabProgram);
    }

    public StatusReporter status() {
        return new DefaultStatusReporter(context, backups);
    }

    /** Where a command reads and writes the repository's objects. */
    public enum RepositorySource {
        /** The directory {@code PG_BACKUP_DIR} (the default). */
        LOCAL,
        /** The S3 bucket of {@code PG_BACKUP_S3_*}: recovery on a machine without the local repository. */
        S3,
        /** The local repository when it is initialized, else the bucket when one is configured. */
        AUTO
    }

    /**
     * Seams for embedders and tests; every one has a production default. A service replacement is
     * a function of the default one, so it can decorate it ({@code backups(d -> new Logging(d))})
     * or ignore it.
     */
    public static final class Builder {
        private final PgBackupConfig config;
        private Clock clock = Clock.systemDefaultZone();
        private ProcessRunner processRunner = new CommonsExecProcessRunner();
        private PgBinaries binaries;
        private Storage storage;
        private String crontabProgram = "crontab";
        private Storage bucket;
        private RepositorySource source = RepositorySource.LOCAL;
        private java.util.List<String> launcher = java.util.List.of();
        private Function<BackupManager, BackupManager> backups;
        private Function<RestorePlanner, RestorePlanner> restorePlanner;
        private Function<Verifier, Verifier> verifier;
        private Function<RetentionPolicy, RetentionPolicy> retentionPolicy;
        private Function<PgBackupContext, RemoteSyncer> remoteSyncer;

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

        /** Where the repository's objects live; by default files below {@code PG_BACKUP_DIR}. */
        /** The {@code crontab} program {@code schedule --install} runs (a path, or a name looked up on PATH). */
        public Builder crontabProgram(String program) {
            this.crontabProgram = Objects.requireNonNull(program);
            return this;
        }

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
        public Builder launcher(java.util.List<String> launcher) {
            this.launcher = java.util.List.copyOf(launcher);
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
            Objects.requireNonNull(replacement);
            this.remoteSyncer = context -> replacement.apply(new RsyncRemoteSyncer(context));
            return this;
        }

        public PgBackup build() {
            PgBinaries fixed = binaries;
            Lazy<PgBinaries> found = new Lazy<>(() -> fixed != null ? fixed : PgBinaries.discover(config.pgBin()));
            Storage chosen = storage;
            Storage givenBucket = bucket;
            RepositorySource from = source;
            // Without pgbackup-s3 a configured bucket is refused here, before any command changes anything.
            io.pgbackup.core.storage.BucketProvider provider = givenBucket == null && config.s3().isPresent()
                    ? BucketProviders.find() : null;
            Lazy<java.util.Optional<Storage>> theBucket = new Lazy<>(() -> givenBucket != null ? java.util.Optional.of(givenBucket)
                    : config.s3().map(s3 -> provider.open(s3)));
            Lazy<Repository> repository = new Lazy<>(() -> {
                java.nio.file.Path root = config.requireBackupDir();
                if (chosen != null) {
                    return new Repository(root, chosen);
                }
                Repository local = new Repository(root, new LocalStorage(root));
                // PG_BACKUP_ARCHIVER_REPO=s3: the bucket is the repository, the directory only scripts, logs and spool.
                boolean bucketIsRepository = config.archiver().bucketOnly();
                boolean fromBucket = bucketIsRepository && theBucket.get().isPresent() || switch (from) {
                    case LOCAL -> false;
                    case S3 -> {
                        if (theBucket.get().isEmpty()) {
                            throw new PgBackupException(ErrorCode.INVALID_CONFIG, "--repo s3 needs "
                                    + PgBackupConfig.PG_BACKUP_S3_BUCKET + ": set it (and PG_BACKUP_S3_ENDPOINT, PG_BACKUP_S3_PREFIX"
                                    + " as the machine that wrote the bucket had them)");
                        }
                        yield true;
                    }
                    case AUTO -> theBucket.get().isPresent() && !local.isInitialized();
                };
                return fromBucket ? new Repository(root, theBucket.get().get()) : local;
            });
            return new PgBackup(this, new PgBackupContext(config, clock, processRunner, found, new PgConnector(config), repository,
                    theBucket, launcher));
        }
    }

    private static final class Lazy<T> implements Supplier<T> {
        private final Supplier<T> source;
        private T value;

        Lazy(Supplier<T> source) {
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
