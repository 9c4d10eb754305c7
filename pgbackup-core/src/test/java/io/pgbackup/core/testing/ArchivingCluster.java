package io.pgbackup.core.testing;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;

import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.Optional;

/**
 * A real cluster archiving into a pgbackup repository through the installed archive_wal.sh, as
 * {@code init} tells a DBA to set it up.
 */
public final class ArchivingCluster implements AutoCloseable {
    private final PgCluster cluster;
    private final PgBackup pgBackup;
    private final Path repository;

    private ArchivingCluster(PgCluster cluster, PgBackup pgBackup, Path repository) {
        this.cluster = cluster;
        this.pgBackup = pgBackup;
        this.repository = repository;
    }

    public static ArchivingCluster create(Path work) throws Exception {
        return archiving(work, PgCluster.create(work.resolve("pg")));
    }

    /** As {@link #create(Path)}, a cluster of PostgreSQL {@code major} (see {@link PgVersions}). */
    public static ArchivingCluster create(Path work, int major) throws Exception {
        return archiving(work, PgCluster.create(work.resolve("pg"), major, Map.of()));
    }

    /**
     * An archiving cluster whose archive_wal.sh hands segments to the archiver
     * ({@code PG_BACKUP_ARCHIVER=async}), which it starts as {@link ArchiverMain} in a JVM of its
     * own; {@code archiver} adjusts the archiver's settings (workers, idle exit, ...).
     */
    public static ArchivingCluster createAsync(Path work, java.util.function.UnaryOperator<io.pgbackup.core.config.ArchiverConfig> archiver)
            throws Exception {
        return createAsync(work, archiver, c -> c, ArchiverMain.launcher(), b -> b, Map.of());
    }

    /**
     * As {@link #createAsync(Path, java.util.function.UnaryOperator)}, for fault tests: {@code config}
     * adjusts the rest of the configuration (an S3 bucket), {@code launcher} replaces the command
     * archive_wal.sh starts the archiver with (one that mounts a small filesystem first, say),
     * {@code pgBackup} adjusts the test's own instance, and {@code serverEnv} is added to the
     * server's environment, which archive_wal.sh and so the archiver inherit (S3 credentials).
     */
    public static ArchivingCluster createAsync(Path work, java.util.function.UnaryOperator<io.pgbackup.core.config.ArchiverConfig> archiver,
                                               java.util.function.UnaryOperator<io.pgbackup.core.config.PgBackupConfig.Builder> config,
                                               java.util.List<String> launcher, java.util.function.UnaryOperator<PgBackup.Builder> pgBackup,
                                               Map<String, String> serverEnv) throws Exception {
        PgCluster cluster = PgCluster.create(work.resolve("pg"));
        try {
            io.pgbackup.core.config.PgBackupConfig base = cluster.config(work.resolve("repo"));
            io.pgbackup.core.config.PgBackupConfig built = config.apply(base.toBuilder()
                    .archiver(archiver.apply(base.archiver().withMode(io.pgbackup.core.config.ArchiverConfig.Mode.ASYNC)))).build();
            cluster.addServerEnvironment(serverEnv);
            return archiving(work, cluster, pgBackup.apply(PgBackup.builder(built).launcher(launcher)).build());
        } catch (Exception | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    /** As {@link #create(Path)}, archiving into {@code repository} (PG_BACKUP_DIR) instead of {@code work/repo}. */
    public static ArchivingCluster create(Path work, Path repository) throws Exception {
        PgCluster cluster = PgCluster.create(work.resolve("pg"));
        try {
            return enable(repository, cluster, PgBackup.create(cluster.config(repository)));
        } catch (Exception | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    private static ArchivingCluster archiving(Path work, PgCluster cluster) throws Exception {
        return archiving(work, cluster, PgBackup.create(cluster.config(work.resolve("repo"))));
    }

    private static ArchivingCluster archiving(Path work, PgCluster cluster, PgBackup pg) throws Exception {
        return enable(work.resolve("repo"), cluster, pg);
    }

    /** init, then archive_mode and archive_command as init tells a DBA to set them, and a restart. */
    private static ArchivingCluster enable(Path repo, PgCluster cluster, PgBackup pg) throws Exception {
        pg.archiveSetup().init();
        cluster.appendSettings(Map.of("archive_mode", "on",
                "archive_command", io.pgbackup.core.internal.postgres.PgConfText.literal(pg.archiveSetup().archiveCommand())));
        cluster.restart();
        return new ArchivingCluster(cluster, pg, repo);
    }

    /** An archiving cluster with an {@code orders} table of {@code rows} rows: the data restore and verify tests compare. */
    public static ArchivingCluster withOrders(Path work, int rows) throws Exception {
        ArchivingCluster source = create(work);
        source.cluster().execute("CREATE TABLE orders (id int PRIMARY KEY, item text)",
                "INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, " + rows + ") g");
        return source;
    }

    public PgCluster cluster() {
        return cluster;
    }

    public PgBackup pgBackup() {
        return pgBackup;
    }

    public Path repository() {
        return repository;
    }

    /** Switches to a new WAL segment and waits until the finished one is archived. */
    public String switchAndAwaitArchived() throws Exception {
        return cluster.switchAndAwaitArchived();
    }

    /**
     * Restores {@code backupId} to the end of the archive into {@code dir} and starts the copy
     * archiving into this repository; returns it once promoted, on the next timeline.
     */
    public PgCluster restoreAsNewTimeline(String backupId, Path dir, Path runDir) throws Exception {
        pgBackup.restorePlanner().execute(pgBackup.restorePlanner().plan(new RestoreRequest(Optional.of(backupId),
                new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.of(dir), false)
                .withArchiveMode(io.pgbackup.core.restore.RestorePlan.ArchiveMode.PRESERVE)));
        PgCluster promoted = PgCluster.startExisting(cluster.programs(), dir, runDir, cluster.password(),
                Map.of("archive_mode", "on"));
        try {
            promoted.awaitPromoted(Duration.ofMinutes(2));
        } catch (Exception | AssertionError e) {
            promoted.close();
            throw e;
        }
        return promoted;
    }

    /** The server's own clock, after everything committed so far. */
    public OffsetDateTime serverNow() throws Exception {
        try (var c = cluster.connect(); var st = c.createStatement(); var rs = st.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getObject(1, OffsetDateTime.class);
        }
    }

    /** Row count and a checksum of every row of {@code table}: equal fingerprints mean equal data. */
    public static String fingerprint(PgCluster cluster, String table) throws Exception {
        return cluster.queryString("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM " + table + " t");
    }

    /** Stops the archiver, if one runs for this repository (it would outlive the test otherwise). */
    public void stopArchiver() {
        stopArchiverOf(repository, cluster.dataDir());
    }

    /** Stops the archiver of {@code pgData} on {@code repository}, if one runs. */
    public static void stopArchiverOf(Path repository, Path pgData) {
        stop(io.pgbackup.core.internal.archive.ArchiveSpool.pidFileOf(repository, pgData));
    }

    /** Stops every archiver of {@code repository} (each cluster's spool has its own). */
    public static void stopArchivers(Path repository) {
        try (var spools = java.nio.file.Files.list(repository.resolve("spool/archiver"))) {
            spools.map(d -> d.resolve("archiver.pid")).toList().forEach(ArchivingCluster::stop);
        } catch (java.io.IOException e) {
            // No spool: no archiver ever ran here.
        }
    }

    private static void stop(Path pidFile) {
        try {
            if (java.nio.file.Files.exists(pidFile)) {
                long pid = Long.parseLong(java.nio.file.Files.readAllLines(pidFile).get(0).strip());
                ProcessHandle.of(pid).ifPresent(p -> {
                    p.destroy();
                    p.onExit().orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).exceptionally(e -> null).join();
                });
            }
        } catch (java.io.IOException | RuntimeException e) {
            // Best effort: the archiver also exits when its cluster stops or its PGDATA is gone.
        }
    }

    @Override
    public void close() {
        stopArchiver();
        cluster.close();
    }
}
