package io.pgbackup.core.archive;

import io.pgbackup.core.archive.WalArchiver.ArchiverState;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.internal.archive.SegmentStore;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.testing.ArchiverMain;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.verify.VerifyRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The archiver (PG_BACKUP_ARCHIVER=async) against a real cluster: archive_wal.sh starts it, it acknowledges, nothing is lost. */
class ArchiverTest {
    @TempDir
    Path work;

    @Test
    void archivesEverySegmentOfABurstAndReportsItsState() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withWorkers(2).withIdleExitSeconds(30))) {
            PgCluster pg = source.cluster();
            pg.execute("CREATE TABLE burst (id int, pad text)",
                    "INSERT INTO burst SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 300000) g");
            String last = source.switchAndAwaitArchived();

            Path archive = source.repository().resolve("wal_archive");
            List<String> segments;
            try (Stream<Path> files = Files.list(archive)) {
                segments = files.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}\\.gz")).sorted().toList();
            }
            assertThat(segments).hasSizeGreaterThanOrEqualTo(3);
            assertThat(segments.get(segments.size() - 1)).isEqualTo(last + ".gz");
            // No gap: every segment from the first to the last is there.
            long first = Long.parseLong(segments.get(0).substring(16, 24), 16);
            assertThat(segments).hasSize((int) (Long.parseLong(last.substring(16, 24), 16) - first + 1));
            try (Stream<Path> files = Files.list(archive)) {
                assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("."));
            }

            PgCluster.await(Duration.ofSeconds(10), "the archiver's state to name " + last,
                    () -> last.equals(source.pgBackup().archiver().state().orElseThrow().lastAcknowledged()));
            ArchiverState state = source.pgBackup().archiver().state().orElseThrow();
            assertThat(state.pgData()).isEqualTo(pg.dataDir().toAbsolutePath().normalize().toString());
            assertThat(state.acknowledged()).isPositive();
            assertThat(state.failed()).isZero();
            assertThat(state.stuck()).isFalse();
            assertThat(Files.readString(source.repository().resolve("logs/wal_archive.log")))
                    .contains(last + " archived archiver");
            assertThat(pg.queryLong("SELECT failed_count FROM pg_stat_archiver")).isZero();

            source.pgBackup().backups().backup(io.pgbackup.core.backup.BackupOptions.defaults());
            source.switchAndAwaitArchived();
            assertThat(source.pgBackup().verifier().verify(VerifyRequest.every()).ok()).isTrue();
        }
    }

    @Test
    void keepsUpWithARealPgbenchLoadWithoutAGap() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withWorkers(2).withIdleExitSeconds(30))) {
            PgCluster pg = source.cluster();
            Path pgbench = pg.programs().tool("pgbench");
            java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
            if (pg.password() != null) {
                env.put("PGPASSWORD", pg.password());
            }
            run(env, pgbench.toString(), "-i", "-q", "-s", "5", "-h", pg.host(), "-p", String.valueOf(pg.port()), "-U", pg.superuser(), "postgres");
            source.pgBackup().backups().backup(io.pgbackup.core.backup.BackupOptions.defaults());
            // A few seconds of write load, with checkpoints and segment switches as they come.
            run(env, pgbench.toString(), "-c", "4", "-j", "2", "-T", "5", "-h", pg.host(), "-p", String.valueOf(pg.port()),
                    "-U", pg.superuser(), "postgres");
            String last = source.switchAndAwaitArchived();

            List<String> segments;
            try (Stream<Path> files = Files.list(source.repository().resolve("wal_archive"))) {
                segments = files.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}\\.gz")).sorted().toList();
            }
            long first = Long.parseLong(segments.get(0).substring(16, 24), 16);
            assertThat(segments).as("no gap").hasSize((int) (Long.parseLong(last.substring(16, 24), 16) - first + 1));
            assertThat(pg.queryLong("SELECT failed_count FROM pg_stat_archiver")).isZero();
            assertThat(source.pgBackup().verifier().verify(VerifyRequest.every()).ok()).isTrue();
        }
    }

    @Test
    void archivesTheHistoryAndBackupFilesOfAPromotedCopyBesideItsPrimary() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withIdleExitSeconds(30))) {
            source.cluster().execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
            String id = source.pgBackup().backups().backup(io.pgbackup.core.backup.BackupOptions.defaults()).id();
            source.switchAndAwaitArchived();
            try (PgCluster promoted = source.restoreAsNewTimeline(id, work.resolve("copy"), work.resolve("copy-run"))) {
                String next = promoted.switchAndAwaitArchived();
                assertThat(next).startsWith("00000002");
                Path archive = source.repository().resolve("wal_archive");
                assertThat(archive.resolve("00000002.history.gz")).exists();
                assertThat(archive.resolve(next + ".gz")).exists();
                try (Stream<Path> files = Files.list(archive)) {
                    assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.endsWith(".backup.gz"));
                }
                // Its own archiver (one per cluster), not the primary's; it logs right after acknowledging.
                PgCluster.await(Duration.ofSeconds(10), "the archiver's log line for 00000002.history", () -> Files.readString(
                        source.repository().resolve("logs/wal_archive.log")).contains("00000002.history archived archiver"));
                try (Stream<Path> spools = Files.list(source.repository().resolve("spool/archiver"))) {
                    assertThat(spools.filter(Files::isDirectory).count()).isEqualTo(2);
                }
                ArchivingCluster.stopArchiverOf(source.repository(), promoted.dataDir());
            }
        }
    }

    private static void run(java.util.Map<String, String> env, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    }

    @Test
    void exitsAfterItsIdlePeriodAndTheNextSegmentStartsANewOne() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withIdleExitSeconds(1))) {
            source.cluster().execute("CREATE TABLE t AS SELECT 1 AS x");
            source.switchAndAwaitArchived();
            PgBackup pg = source.pgBackup();
            PgCluster.await(Duration.ofSeconds(30), "the archiver to exit when idle",
                    () -> pg.archiver().state().map(s -> !s.running()).orElse(false));
            long firstPid = pg.archiver().state().orElseThrow().pid();

            String next = source.switchAndAwaitArchived();
            // The state file is rewritten every second or so.
            PgCluster.await(Duration.ofSeconds(10), "the new archiver's state to name " + next,
                    () -> next.equals(pg.archiver().state().orElseThrow().lastAcknowledged()));
            assertThat(pg.archiver().state().orElseThrow().pid()).isNotEqualTo(firstPid);
        }
    }

    @Test
    void initWithChangedSettingsStopsTheArchiverStartedWithTheOldOnesAndTheNextSegmentStartsANewOne() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withWorkers(1).withIdleExitSeconds(120))) {
            source.cluster().execute("CREATE TABLE t AS SELECT 1 AS x");
            source.switchAndAwaitArchived();
            PgBackup pg = source.pgBackup();
            long oldPid = pg.archiver().state().orElseThrow().pid();
            assertThat(pg.archiver().state().orElseThrow().running()).isTrue();

            // The same settings: the script is unchanged, the archiver keeps running.
            assertThat(pg.archiveSetup().init().stoppedArchivers()).isEmpty();
            assertThat(pg.archiver().state().orElseThrow().running()).isTrue();

            // Two workers instead of one: a new script, whose settings (the key among them, after a rotation)
            // an archiver running since before cannot pick up.
            PgBackup changed = PgBackup.builder(pg.config().toBuilder().archiver(pg.config().archiver().withWorkers(2)).build())
                    .launcher(ArchiverMain.launcher()).build();
            ArchiveSetup.InitResult result = changed.archiveSetup().init();
            assertThat(result.scripts()).extracting(ArchiveSetup.InitResult.ScriptInstall::state)
                    .contains(ArchiveSetup.InitResult.ScriptInstall.State.UPDATED);
            assertThat(result.stoppedArchivers()).containsExactly(oldPid);
            assertThat(pg.archiver().state().map(ArchiverState::running).orElse(false)).isFalse();

            String next = source.switchAndAwaitArchived();
            PgCluster.await(Duration.ofSeconds(10), "the new archiver's state to name " + next,
                    () -> next.equals(pg.archiver().state().orElseThrow().lastAcknowledged()));
            assertThat(pg.archiver().state().orElseThrow().pid()).isNotEqualTo(oldPid);
        }
    }

    @Test
    void anIdenticalCopyIsSuccessAndDifferentContentIsAConflictThatKeepsTheOriginal() throws Exception {
        Path repo = Files.createDirectories(work.resolve("repo"));
        LocalStorage storage = new LocalStorage(repo);
        Path wal = work.resolve("000000010000000000000001");
        Files.write(wal, new byte[1 << 20]);
        SegmentStore store = new SegmentStore(storage, Compression.ZSTD);

        SegmentStore.Stored first = store.store(wal, wal.getFileName().toString());
        assertThat(first.alreadyArchived()).isFalse();
        assertThat(first.key()).isEqualTo("wal_archive/000000010000000000000001.zst");
        byte[] archived = Files.readAllBytes(repo.resolve(first.key()));

        // A retry after the compression changed finds the .zst copy instead of storing a .gz beside it.
        assertThat(new SegmentStore(storage, Compression.GZIP).store(wal, wal.getFileName().toString()).alreadyArchived()).isTrue();
        assertThat(repo.resolve("wal_archive/000000010000000000000001.gz")).doesNotExist();

        Files.write(wal, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> store.store(wal, wal.getFileName().toString()))
                .isInstanceOf(SegmentStore.ConflictException.class).hasMessageContaining("different content");
        assertThat(Files.readAllBytes(repo.resolve(first.key()))).isEqualTo(archived);
        try (InputStream in = Compression.ZSTD.decompress(Files.newInputStream(repo.resolve(first.key())))) {
            assertThat(in.readAllBytes()).hasSize(1 << 20);
        }
    }
}
