package io.pgbackup.core.internal;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;

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
import io.pgbackup.core.internal.schedule.DefaultJobScheduler;
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

import java.util.function.Supplier;

/**
 * The {@link PgBackup} facade's implementation and the library's composition root: it wires the
 * internal services from what a {@link PgBackup.Builder} collected. The API finds it through
 * {@link PgBackup.Provider} (ServiceLoader), so no API type names an internal one.
 */
public final class DefaultPgBackup implements PgBackup {
    private final PgBackupContext context;
    private final String crontabProgram;
    private final BackupManager backups;
    private final RestorePlanner restorePlanner;
    private final Verifier verifier;
    private final RetentionPolicy retentionPolicy;
    private final RemoteSyncer remoteSyncer;
    private final RemoteSyncer rsyncSyncer;
    private final RemoteSyncer s3Syncer;

    private DefaultPgBackup(PgBackup.Seams b, PgBackupContext context) {
        this.context = context;
        this.crontabProgram = b.crontabProgram();
        this.rsyncSyncer = b.remoteSyncer() != null ? b.remoteSyncer().apply(new RsyncRemoteSyncer(context)) : new RsyncRemoteSyncer(context);
        this.s3Syncer = new S3Syncer(context);
        java.util.List<RemoteSyncer> offsite = new java.util.ArrayList<>();
        boolean s3 = context.config().s3().isPresent() || b.bucket() != null;
        // With the bucket as the repository (PG_BACKUP_ARCHIVER_REPO=s3) there is nothing to copy to it.
        if (s3 && !context.config().archiver().bucketOnly()) {
            offsite.add(s3Syncer);
        }
        if (context.config().remote().isPresent() || b.remoteSyncer() != null) {
            offsite.add(rsyncSyncer);
        }
        this.remoteSyncer = new OffsiteSyncer(offsite, rsyncSyncer);
        BackupManager local = new DefaultBackupManager(context);
        BackupManager defaultBackups = context.config().remote().isPresent() || (s3 && !context.config().archiver().bucketOnly())
                ? new InlineSyncBackupManager(local, remoteSyncer) : local;
        this.backups = b.backups() != null ? b.backups().apply(defaultBackups) : defaultBackups;
        DefaultRestorePlanner defaultPlanner = new DefaultRestorePlanner(context, backups);
        this.restorePlanner = b.restorePlanner() != null ? b.restorePlanner().apply(defaultPlanner) : defaultPlanner;
        DefaultVerifier defaultVerifier = new DefaultVerifier(context, restorePlanner);
        this.verifier = b.verifier() != null ? b.verifier().apply(defaultVerifier) : defaultVerifier;
        DefaultRetentionPolicy defaultRetention = new DefaultRetentionPolicy(context, backups);
        this.retentionPolicy = b.retentionPolicy() != null ? b.retentionPolicy().apply(defaultRetention) : defaultRetention;
    }

    @Override
    public PgBackupConfig config() {
        return context.config();
    }

    /** Where the repository's objects are, for messages: a directory or an {@code s3://} URL. */
    @Override
    public String repositoryLocation() {
        return context.repository().location();
    }

    /** Whether this instance reads and writes the configured bucket as its repository (recovery from the bucket). */
    @Override
    public boolean readsBucket() {
        return context.bucket().map(b -> b == io.pgbackup.core.internal.crypto.SealingStorage.rawOf(context.repository().storage())).orElse(false);
    }

    /** {@code init}: the repository layout, the archive and restore scripts, the cluster's settings. */
    @Override
    public ArchiveSetup archiveSetup() {
        return new DefaultArchiveSetup(context);
    }

    /** Backups; with a remote configured, each new backup is also copied there (failure: a warning). */
    @Override
    public BackupManager backups() {
        return backups;
    }

    @Override
    public RestorePlanner restorePlanner() {
        return restorePlanner;
    }

    @Override
    public Verifier verifier() {
        return verifier;
    }

    @Override
    public RetentionPolicy retentionPolicy() {
        return retentionPolicy;
    }

    /** {@code sync}: every configured offsite copy (the S3 bucket, then the rsync remote). */
    @Override
    public RemoteSyncer remoteSyncer() {
        return remoteSyncer;
    }

    /** The offsite copy in the S3 bucket alone ({@code sync --to s3}). */
    @Override
    public RemoteSyncer s3Syncer() {
        return s3Syncer;
    }

    /** The rsync copy alone ({@code sync --to remote}). */
    @Override
    public RemoteSyncer rsyncSyncer() {
        return rsyncSyncer;
    }

    /**
     * {@code wal-fetch}: one archived WAL file decompressed to {@code dest}, as restore_command
     * needs it; false when the repository does not hold it.
     */
    @Override
    public boolean fetchWal(String name, java.nio.file.Path dest) {
        return new io.pgbackup.core.internal.archive.WalFetcher(context.repository()).fetch(name, dest);
    }

    /**
     * Recovery of the cluster in {@code pgData}, restored by {@code restore}, ended: its restore
     * marker goes, so cleanup no longer keeps what replay needed (restore_wal.sh runs this for a
     * restore from the bucket; for a local repository it removes the marker itself).
     */
    @Override
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
    @Override
    public io.pgbackup.core.archive.WalArchiver archiver() {
        boolean bucketOnly = context.config().archiver().bucketOnly();
        Storage target = bucketOnly ? context.repository().storage() instanceof io.pgbackup.core.internal.crypto.SealingStorage s
                && s.raw() == context.requireBucket() ? s : sealedLike(context.requireBucket()) : context.repository().storage();
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
    @Override
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
    @Override
    public io.pgbackup.core.schedule.JobScheduler scheduler() {
        return new DefaultJobScheduler(context, crontabProgram);
    }

    @Override
    public StatusReporter status() {
        return new DefaultStatusReporter(context, backups);
    }

    @Override
    public io.pgbackup.core.report.ReportModel report() {
        return io.pgbackup.core.internal.report.ReportBuilder.build(context.repository(), backups.list(), status().report(),
                context.clock());
    }

    @Override
    public io.pgbackup.core.health.Health health() {
        Repository repository = context.repository();
        java.nio.file.Path root = repository.root();
        // The notifier's last outcomes go through the repository's Storage like every object; beside
        // the local repository when this command reads the bucket; nowhere without a repository.
        Storage outcomes = root == null || !java.nio.file.Files.isDirectory(root) ? null
                : readsBucket() ? new LocalStorage(root) : repository.storage();
        return new io.pgbackup.core.internal.health.DefaultHealth(status(), backups, context.clock(), outcomes,
                repository.storage(), repository.location());
    }

    /** {@code bucket} sealed as the repository's storage is (the archiver's bucket-only target). */
    private Storage sealedLike(Storage bucket) {
        Storage repositoryStorage = context.repository().storage();
        return repositoryStorage instanceof io.pgbackup.core.internal.crypto.SealingStorage s
                ? new io.pgbackup.core.internal.crypto.SealingStorage(bucket, s.ring().forStorage(bucket)) : bucket;
    }

    @Override
    public io.pgbackup.core.crypto.Encryption encryption() {
        return new io.pgbackup.core.internal.crypto.DefaultEncryption(context::repository, context::bucket, context.clock(),
                () -> io.pgbackup.core.internal.crypto.WrapKeys.load(context.config().encryption(), context.processRunner()));
    }

    /** A facade for what a {@link PgBackup.Builder} collected; nothing is opened until a command needs it. */
    static PgBackup create(PgBackup.Seams seams) {
        PgBackupConfig config = seams.config();
        PgBinaries fixed = seams.binaries();
        Lazy<PgBinaries> found = new Lazy<>(() -> fixed != null ? fixed : PgBinaries.discover(config.pgBin()));
        Storage chosen = seams.storage();
        Storage givenBucket = seams.bucket();
        PgBackup.RepositorySource from = seams.source();
        // Without pgbackup-s3 a configured bucket is refused here, before any command changes anything.
        io.pgbackup.core.storage.BucketProvider provider = givenBucket == null && config.s3().isPresent()
                ? BucketProviders.find() : null;
        Lazy<java.util.Optional<Storage>> theBucket = new Lazy<>(() -> givenBucket != null ? java.util.Optional.of(givenBucket)
                : config.s3().map(s3 -> provider.open(s3)));
        // The wrap key is read once, when a command first needs the repository: unreadable, the command fails.
        Lazy<io.pgbackup.core.internal.crypto.Sealing> sealing = new Lazy<>(() ->
                io.pgbackup.core.internal.crypto.Sealing.load(config.encryption(), seams.clock(),
                        seams.processRunner() != null ? seams.processRunner() : new CommonsExecProcessRunner()));
        Lazy<Repository> repository = new Lazy<>(() -> {
            java.nio.file.Path root = config.requireBackupDir();
            if (chosen != null) {
                return new Repository(root, sealing.get().seal(chosen));
            }
            Repository local = new Repository(root, sealing.get().seal(new LocalStorage(root)));
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
            return fromBucket ? new Repository(root, sealing.get().seal(theBucket.get().get())) : local;
        });
        ProcessRunner processRunner = seams.processRunner() != null ? seams.processRunner() : new CommonsExecProcessRunner();
        return new DefaultPgBackup(seams, new PgBackupContext(config, seams.clock(), processRunner, found, new PgConnector(config),
                repository, theBucket, seams.launcher()));
    }

    /** The {@link PgBackup.Provider} the API's builder finds with ServiceLoader. */
    public static final class Provider implements PgBackup.Provider {
        @Override
        public PgBackup create(PgBackup.Seams seams) {
            return DefaultPgBackup.create(seams);
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
