package io.pgbackup.core.internal.demo;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.postgres.LocalCluster;
import io.pgbackup.core.demo.PitrDemo;
import io.pgbackup.core.postgres.PgBinaries;
import io.pgbackup.core.process.ProcessRunner;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestorePlan;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RestorePlanner.RestoreResult;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.internal.storage.AtomicFiles;
import io.pgbackup.core.internal.storage.BucketProviders;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.sync.RemoteSyncer.SyncResult;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The whole point-in-time recovery cycle on a throwaway cluster: create it, {@code init},
 * archive, write rows, back up, note a time, drop the table, restore to the noted time, start the
 * restored copy and check the rows are back. Each step is reported with its timing as it ends.
 */
public final class DefaultPitrDemo implements PitrDemo {
    private static final String USER = "pgbackup_demo";
    private static final String ROWS_CHECK = "SELECT count(*) || ' rows, md5 ' || md5(string_agg(id || ':' || item, ',' ORDER BY id)) FROM demo_orders";

    private final PgBinaries binaries;
    private final ProcessRunner runner;
    private final Bucket bucket;
    private final List<String> launcher;

    public DefaultPitrDemo(PgBinaries binaries, ProcessRunner runner) {
        this(binaries, runner, null, List.of());
    }

    /** With the library's own process runner (the one {@link PgBackup#create} uses). */
    public DefaultPitrDemo(PgBinaries binaries) {
        this(binaries, new io.pgbackup.core.internal.process.CommonsExecProcessRunner());
    }

    @Override
    public void refuseRoot() {
        LocalCluster.refuseRoot();
    }

    private DefaultPitrDemo(PgBinaries binaries, ProcessRunner runner, Bucket bucket, List<String> launcher) {
        this.binaries = binaries;
        this.runner = runner;
        this.bucket = bucket;
        this.launcher = List.copyOf(launcher);
    }

    @Override
    public DefaultPitrDemo withBucket(Bucket bucket, List<String> launcher) {
        return new DefaultPitrDemo(binaries, runner, Objects.requireNonNull(bucket), launcher);
    }

    /**
     * Runs the demo in a new directory under {@code parent}; removes it at the end unless
     * {@code keep}. Fails with a one-line {@link PgBackupException} naming the step that failed.
     */
    @Override
    public Result run(Path parent, boolean keep, Consumer<Step> listener) {
        LocalCluster.refuseRoot();
        Instant start = Instant.now();
        Path work;
        try {
            work = Files.createTempDirectory(parent, "pgbackup-demo-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot create a directory in " + parent + ": " + e.getMessage(), e);
        }
        List<Step> steps = new ArrayList<>();
        StepTimer timer = new StepTimer(steps, listener);
        String password = "demo-" + UUID.randomUUID();
        Path repo = work.resolve("backups");
        LocalCluster cluster = null;
        LocalCluster restored = null;
        Storage s3 = bucket == null ? null : storage(bucket);
        Map<String, String> serverEnv = bucket == null ? Map.of() : bucket.environment();
        boolean success = false;
        try {
            int port = LocalCluster.freePort();
            LocalCluster created = timer.step("initdb", () -> {
                LocalCluster c = LocalCluster.initdb(binaries, runner, work.resolve("data"), work.resolve("run"), port, USER, password);
                return new Outcome<>(c, "cluster in " + c.dataDir() + ", port " + port);
            });
            cluster = created;
            PgBackupConfig.Builder configured = PgBackupConfig.builder().user(USER).password(password).database("postgres")
                    .host("127.0.0.1").port(port).backupDir(repo).pgData(created.dataDir())
                    .pgBin(binaries.binDir());
            if (bucket != null) {
                configured.s3(bucket.settings());
            }
            PgBackupConfig config = configured.build();
            PgBackup pg = builder(config, s3).build();

            timer.step("init", () -> {
                pg.archiveSetup().init();
                return new Outcome<>(null, "repository " + repo + ", archive script installed");
            });
            timer.step("enable archiving", () -> {
                Map<String, String> settings = new LinkedHashMap<>();
                settings.put("listen_addresses", "'127.0.0.1'");
                settings.put("wal_level", "replica");
                settings.put("archive_mode", "on");
                settings.put("archive_command", io.pgbackup.core.internal.postgres.PgConfText.literal(pg.archiveSetup().archiveCommand()));
                settings.put("max_wal_senders", "5");
                created.configure(settings);
                created.start(Duration.ofMinutes(2), serverEnv);
                return new Outcome<>(null, "archive_command = '" + pg.archiveSetup().archiveCommand() + "'"
                        + (bucket == null ? "" : ", each archived file copied on to " + s3.location()));
            });
            timer.step("write rows", () -> {
                created.psql("postgres", "CREATE TABLE demo_orders (id int PRIMARY KEY, item text NOT NULL);"
                        + " INSERT INTO demo_orders SELECT g, 'order ' || g FROM generate_series(1, 10000) g");
                return new Outcome<>(null, created.psql("postgres", ROWS_CHECK));
            });
            BackupInfo backup = timer.step("backup", () -> {
                BackupInfo b = pg.backups().backup(BackupOptions.defaults());
                return new Outcome<>(b, b.id() + ", " + b.storedBytes() + " bytes stored"
                        + (bucket == null ? "" : ", and copied to " + s3.location()));
            });
            String[] noted = new String[2];
            timer.step("more writes, note the time", () -> {
                created.psql("postgres", "INSERT INTO demo_orders SELECT g, 'late order ' || g FROM generate_series(10001, 12000) g");
                noted[0] = created.psql("postgres", "SELECT to_char(clock_timestamp(), 'YYYY-MM-DD\"T\"HH24:MI:SS.USOF') || ':00'");
                noted[1] = created.psql("postgres", ROWS_CHECK);
                return new Outcome<>(null, "T = " + noted[0] + ": " + noted[1]);
            });
            timer.step("damage: DROP TABLE", () -> {
                created.psql("postgres", "DROP TABLE demo_orders");
                String segment = created.psql("postgres", "SELECT pg_walfile_name(pg_switch_wal())");
                awaitArchived(created, segment);
                return new Outcome<>(null, "dropped; WAL up to " + segment + " archived");
            });
            timer.step("stop PostgreSQL", () -> {
                created.stop();
                return new Outcome<>(null, "stopped, as a restore requires");
            });
            Path target = work.resolve("restored");
            OffsetDateTime targetTime = OffsetDateTime.parse(noted[0]);
            PgBackup from = pg;
            if (bucket != null) {
                timer.step("offsite copy complete", () -> {
                    // archive_wal.sh copies each file in the background: let those finish, then catch up on anything missed.
                    awaitBackgroundCopies(repo);
                    SyncResult synced = pg.s3Syncer().sync(false);
                    return new Outcome<>(null, s3.location() + " holds the backup and the WAL to the drop ("
                            + synced.files().size() + " file(s) copied by this step)");
                });
                timer.step("disaster: local repository lost", () -> {
                    AtomicFiles.deleteTree(repo);
                    return new Outcome<>(null, repo + " removed: the restore reads " + s3.location() + " alone");
                });
                from = builder(config, s3).repositorySource(PgBackup.RepositorySource.S3).build();
            }
            PgBackup source = from;
            timer.step(bucket == null ? "restore to T" : "restore to T from the bucket", () -> {
                RestorePlan plan = source.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()),
                        new RecoveryTarget.Time(targetTime), TargetAction.PROMOTE, Optional.of(target), false));
                RestoreResult restoredFiles = source.restorePlanner().execute(plan);
                return new Outcome<>(null, "backup " + backup.id() + " + " + plan.wal().size()
                        + " archived WAL segments into " + target + " (" + restoredFiles.bytesWritten() + " bytes)");
            });
            int restoredPort = LocalCluster.freePort();
            restored = new LocalCluster(binaries, runner, target, work.resolve("run-restored"), restoredPort, USER);
            LocalCluster copy = restored;
            timer.step("start restored copy", () -> {
                Files.createDirectories(copy.socketDir());
                copy.configure(Map.of("archive_mode", "off"));
                copy.start(Duration.ofMinutes(2), serverEnv);
                copy.awaitPromoted(Duration.ofMinutes(2));
                return new Outcome<>(null, "recovered and promoted on port " + restoredPort);
            });
            String after = timer.step("check rows", () -> {
                String rows = copy.psql("postgres", ROWS_CHECK);
                return new Outcome<>(rows, rows + (rows.equals(noted[1]) ? " = the rows at T" : " != the rows at T (" + noted[1] + ")"));
            });
            success = after.equals(noted[1]);
            if (!success) {
                throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, "the restored copy holds " + after
                        + " but the table held " + noted[1] + " at T; the files are kept in " + work);
            }
            return new Result(steps, Duration.between(start, Instant.now()), true, noted[1], after,
                    keep ? Optional.of(work) : Optional.empty());
        } finally {
            if (restored != null) {
                restored.stopQuietly();
            }
            if (cluster != null) {
                cluster.stopQuietly();
            }
            if (s3 instanceof AutoCloseable closeable) {
                closeQuietly(closeable);
            }
            if (!keep && success) {
                try {
                    AtomicFiles.deleteTree(work);
                } catch (IOException e) {
                    listener.accept(new Step("cleanup", Duration.ZERO, "could not remove " + work + ": " + e.getMessage()));
                }
            }
        }
    }

    /** The bucket's client (its HTTP connections, its upload threads). */
    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // the demo is over: nothing to do about a client that fails to close
        }
    }

    private PgBackup.Builder builder(PgBackupConfig config, Storage s3) {
        PgBackup.Builder b = PgBackup.builder(config).processRunner(runner).binaries(binaries).launcher(launcher);
        return s3 == null ? b : b.bucket(s3);
    }

    /**
     * Waits until archive_wal.sh's background copies to the bucket are done: no copy pending and its
     * lock free (the cluster is stopped, so none start afterwards). The copies hold
     * {@code logs/.s3-sync.lock} with flock(1), which only flock(1) can ask about.
     */
    private void awaitBackgroundCopies(Path repo) throws InterruptedException {
        Path lock = repo.resolve("logs/.s3-sync.lock");
        Path pending = repo.resolve("logs/.s3-sync.pending");
        Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
        while (Instant.now().isBefore(deadline)) {
            boolean free;
            try {
                free = !Files.exists(lock) || runner.run(io.pgbackup.core.process.ProcessRunner.ProcessSpec.of("flock", "-n", lock.toString(), "true")
                        .withTimeout(Duration.ofSeconds(10))).exitCode() == 0;
            } catch (IOException e) {
                free = true; // no flock(1): the script ran its copies without the lock, the pending mark says enough
            }
            if (free && !Files.exists(pending)) {
                return;
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
        throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "archive_wal.sh's copies to the bucket did not finish within"
                + " 3 minutes: see " + repo.resolve("logs/wal_archive.log"));
    }

    private static void awaitArchived(LocalCluster cluster, String segment) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        while (Instant.now().isBefore(deadline)) {
            String last = cluster.psql("postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
            if (!last.isEmpty() && last.compareTo(segment) >= 0) {
                return;
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "PostgreSQL did not archive " + segment
                + " within 2 minutes: see " + cluster.logFile());
    }

    private record Outcome<T>(T value, String detail) {
    }

    @FunctionalInterface
    private interface StepBody<T> {
        Outcome<T> run() throws Exception;
    }

    /** Times each step and reports it; a failing step becomes one line naming it. */
    private static final class StepTimer {
        private final List<Step> steps;
        private final Consumer<Step> listener;

        StepTimer(List<Step> steps, Consumer<Step> listener) {
            this.steps = steps;
            this.listener = listener;
        }

        <T> T step(String name, StepBody<T> body) {
            Instant begin = Instant.now();
            Outcome<T> outcome;
            try {
                outcome = body.run();
            } catch (PgBackupException e) {
                throw new PgBackupException(e.code(), "demo step '" + name + "' failed: " + e.getMessage(), e);
            } catch (Exception e) {
                throw new PgBackupException(ErrorCode.IO_FAILED, "demo step '" + name + "' failed: " + e, e);
            }
            Step step = new Step(name, Duration.between(begin, Instant.now()), outcome.detail());
            steps.add(step);
            listener.accept(step);
            return outcome.value();
        }
    }

    private static Storage storage(Bucket bucket) {
        return BucketProviders.find().open(bucket.settings(), bucket.environment().getOrDefault("AWS_ACCESS_KEY_ID", ""),
                bucket.environment().getOrDefault("AWS_SECRET_ACCESS_KEY", ""));
    }

    /** Found by {@link PitrDemo#create} through {@code META-INF/services}. */
    public static final class Factory implements PitrDemo.Factory {
        @Override
        public PitrDemo create(PgBinaries binaries) {
            return new DefaultPitrDemo(binaries);
        }
    }
}
