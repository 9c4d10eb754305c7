package io.pgbackup.core.archive;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.testing.ArchiverMain;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * restore_wal.sh's fetch-ahead, run as PostgreSQL runs it: after a restored segment it starts
 * 'wal-fetch --ahead' in the background, which keeps the next segments decompressed in
 * pg_wal/pgbackup_prefetch, and the next calls take them from there.
 */
class WalFetchAheadTest {
    private static final int SEGMENT_SIZE = 1 << 20;

    @TempDir
    Path work;

    @Test
    void theNextSegmentsArePrefetchedInTheBackgroundAndTakenFromThere() throws Exception {
        Repository repository = initWithFetchAhead(4, 10);
        Path data = work.resolve("data");
        Path prefetch = data.resolve("pg_wal/pgbackup_prefetch");
        Files.createDirectories(data.resolve("pg_wal"));

        Sh.Result first = Sh.run(data, repository.restoreScript().toString(), name(1), "pg_wal/RECOVERYXLOG");
        assertThat(first.exitCode()).as(first.stderr()).isZero();
        assertThat(Files.readAllBytes(data.resolve("pg_wal/RECOVERYXLOG"))).isEqualTo(content(1));
        PgCluster.await(Duration.ofSeconds(60), "segments 2..5 prefetched",
                () -> List.of(2, 3, 4, 5).stream().allMatch(i -> Files.exists(prefetch.resolve(name(i)))));
        assertThat(prefetch.resolve(name(6))).as("the window is 4 segments").doesNotExist();

        // Replay takes segment 2 from the prefetch directory, and the window moves on.
        Files.delete(repository.walArchiveDir().resolve(name(2) + ".zst"));
        Sh.Result second = Sh.run(data, repository.restoreScript().toString(), name(2), "pg_wal/RECOVERYXLOG");
        assertThat(second.exitCode()).as(second.stderr()).isZero();
        assertThat(Files.readAllBytes(data.resolve("pg_wal/RECOVERYXLOG"))).isEqualTo(content(2));
        assertThat(prefetch.resolve(name(2))).doesNotExist();
        PgCluster.await(Duration.ofSeconds(30), "segment 6 prefetched", () -> Files.exists(prefetch.resolve(name(6))));

        // At the end of the archive (segment 10) the fetcher stops by itself.
        for (int i = 3; i <= 10; i++) {
            Sh.Result r = Sh.run(data, repository.restoreScript().toString(), name(i), "pg_wal/RECOVERYXLOG");
            assertThat(r.exitCode()).as(name(i) + ": " + r.stderr()).isZero();
            assertThat(Files.readAllBytes(data.resolve("pg_wal/RECOVERYXLOG"))).isEqualTo(content(i));
        }
        PgCluster.await(Duration.ofSeconds(60), "the fetcher to stop at the end of the archive",
                () -> !Files.exists(prefetch.resolve(".fetcher.pid")));
        assertThat(Sh.run(data, repository.restoreScript().toString(), name(11), "pg_wal/RECOVERYXLOG").exitCode()).isEqualTo(1);
        assertThat(Sh.run(data, repository.restoreScript().toString(), "--end-of-recovery").exitCode()).isZero();
        assertThat(prefetch).doesNotExist();
    }

    @Test
    void aFetcherKilledOutrightWhosePidWasReusedDoesNotStopFetchAhead() throws Exception {
        Repository repository = initWithFetchAhead(4, 10);
        Path data = work.resolve("data");
        Path prefetch = data.resolve("pg_wal/pgbackup_prefetch");
        Files.createDirectories(data.resolve("pg_wal"));
        String script = repository.restoreScript().toString();

        assertThat(Sh.run(data, script, name(1), "pg_wal/RECOVERYXLOG").exitCode()).isZero();
        Path pidFile = prefetch.resolve(".fetcher.pid");
        PgCluster.await(Duration.ofSeconds(60), "a fetcher to start", () -> Files.exists(pidFile));
        String[] written = Files.readString(pidFile).trim().split(" ", 2);
        ProcessHandle fetcher = ProcessHandle.of(Long.parseLong(written[0])).orElseThrow();
        fetcher.destroyForcibly();
        fetcher.onExit().get();
        // The OOM killer's case: the pid file stays, and its pid now belongs to another live process.
        Process other = new ProcessBuilder("sleep", "300").start();
        try {
            Files.writeString(pidFile, other.pid() + (written.length > 1 ? " " + written[1] : "") + "\n");
            try (var files = Files.list(prefetch)) {
                for (Path f : files.filter(f -> !f.getFileName().toString().startsWith(".")).toList()) {
                    Files.delete(f);
                }
            }

            Sh.Result next = Sh.run(data, script, name(2), "pg_wal/RECOVERYXLOG");

            assertThat(next.exitCode()).as(next.stderr()).isZero();
            PgCluster.await(Duration.ofSeconds(60), "a new fetcher to prefetch segments 3..6",
                    () -> List.of(3, 4, 5, 6).stream().allMatch(i -> Files.exists(prefetch.resolve(name(i)))));
        } finally {
            other.destroyForcibly();
        }
        assertThat(Sh.run(data, script, "--end-of-recovery").exitCode()).isZero();
        assertThat(prefetch).doesNotExist();
    }

    @Test
    void theEndOfRecoveryStopsAFetcherStillRunningBeforeRemovingItsDirectory() throws Exception {
        Repository repository = initWithFetchAhead(4, 0);
        Path data = work.resolve("data");
        Path prefetch = Files.createDirectories(data.resolve("pg_wal/pgbackup_prefetch"));
        // A fetcher still at work (its pid file names it with its start time, as WalPrefetcher writes it).
        Process fetcher = new ProcessBuilder("sleep", "300").start();
        try {
            String stat = Files.readString(Path.of("/proc/" + fetcher.pid() + "/stat"));
            String startTime = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19];
            Files.writeString(prefetch.resolve(".fetcher.pid"), fetcher.pid() + " " + startTime + "\n");
            Files.write(prefetch.resolve(name(3)), content(3));

            assertThat(Sh.run(data, repository.restoreScript().toString(), "--end-of-recovery").exitCode()).isZero();

            assertThat(fetcher.isAlive()).as("the fetcher was stopped before its directory went").isFalse();
            assertThat(prefetch).doesNotExist();
        } finally {
            fetcher.destroyForcibly();
        }
    }

    /** A repository set up with fetch-ahead of {@code segments}, its archive holding segments 1..{@code archived}. */
    private Repository initWithFetchAhead(int segments, int archived) throws Exception {
        PgBackupConfig base = PgBackupConfig.builder().backupDir(work.resolve("repo")).build();
        PgBackupConfig config = base.toBuilder().archiver(base.archiver().withFetchAhead(segments)).build();
        PgBackup.builder(config).launcher(ArchiverMain.launcher()).build().archiveSetup().init();
        Repository repository = new Repository(work.resolve("repo"));
        for (int i = 1; i <= archived; i++) {
            archive(repository, i);
        }
        return repository;
    }

    private static String name(int segment) {
        return String.format("%08X%08X%08X", 1, 0, segment);
    }

    private static byte[] content(int segment) {
        byte[] b = new byte[SEGMENT_SIZE];
        Arrays.fill(b, (byte) segment);
        b[0] = (byte) (segment * 7);
        return b;
    }

    private static void archive(Repository repository, int segment) throws Exception {
        try (OutputStream out = Compression.ZSTD.compress(Files.newOutputStream(repository.walArchiveDir().resolve(name(segment) + ".zst")))) {
            out.write(content(segment));
        }
    }
}
