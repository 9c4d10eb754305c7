package io.pgbackup.core.archive;

import io.pgbackup.core.archive.ArchiveSetup.InitResult;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The contract of the generated {@code restore_wal.sh}, checked by running the real script as PostgreSQL would. */
class RestoreWalScriptTest {
    private static final String SEGMENT = "000000010000000000000007";

    @TempDir
    Path work;

    Repository repository;
    Path pgWal;

    @BeforeEach
    void initRepository() throws IOException {
        InitResult result = PgBackup.create(PgBackupConfig.builder().backupDir(work.resolve("backup dir")).build())
                .archiveSetup().init();
        repository = new Repository(result.backupDir());
        pgWal = Files.createDirectories(work.resolve("data").resolve("pg_wal"));
    }

    @Test
    void restoresFilesOfEveryCompressionOverAnOldFile() throws Exception {
        byte[] content = content(200_000, 1);
        Path dest = pgWal.resolve("RECOVERYXLOG");
        for (String suffix : List.of(".gz", ".zst", ".lz4", "")) {
            Path archived = repository.walArchiveDir().resolve(SEGMENT + suffix);
            store(archived, content);
            Files.write(dest, "an earlier segment".getBytes());

            Sh.Result result = restore(SEGMENT, dest);

            assertThat(result.exitCode()).as(suffix + ": " + result.stderr()).isZero();
            assertThat(Files.readAllBytes(dest)).as(suffix).isEqualTo(content);
            assertThat(pgWalEntries()).containsExactly("RECOVERYXLOG");
            Files.delete(archived);
        }
    }

    @Test
    void restoresHistoryBackupAndPartialNames() throws Exception {
        for (String name : List.of("00000002.history", "000000010000000000000002.00000028.backup",
                "000000010000000000000003.partial")) {
            byte[] content = content(500, name.length());
            store(repository.walArchiveDir().resolve(name + ".gz"), content);
            Path dest = pgWal.resolve("RECOVERYHISTORY");

            Sh.Result result = restore(name, dest);

            assertThat(result.exitCode()).as(name + ": " + result.stderr()).isZero();
            assertThat(Files.readAllBytes(dest)).isEqualTo(content);
        }
    }

    @Test
    void takesAPrefetchedSegmentFromPgdataAndDropsTheRestAtTheEndOfRecovery() throws Exception {
        Path data = pgWal.getParent();
        Path prefetch = Files.createDirectories(data.resolve("pg_wal/pgbackup_prefetch"));
        byte[] prefetched = content(1000, 3);
        Files.write(prefetch.resolve(SEGMENT), prefetched);
        Files.write(prefetch.resolve("000000010000000000000008"), content(1000, 4));
        Files.writeString(prefetch.resolve(".trusted"), "boot " + Files.readString(Path.of("/proc/sys/kernel/random/boot_id")));
        store(repository.walArchiveDir().resolve(SEGMENT + ".gz"), content(1000, 5));
        Path dest = pgWal.resolve("RECOVERYXLOG");

        // PostgreSQL runs restore_command in PGDATA, which is where the prefetch directory is.
        Sh.Result result = Sh.run(data, repository.restoreScript().toString(), SEGMENT, dest.toString());

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(Files.readAllBytes(dest)).isEqualTo(prefetched);
        assertThat(prefetch.resolve(SEGMENT)).doesNotExist();

        Sh.Result end = Sh.run(data, repository.restoreScript().toString(), "--end-of-recovery");
        assertThat(end.exitCode()).as(end.stderr()).isZero();
        assertThat(prefetch).doesNotExist();
        assertThat(repository.walArchiveDir().resolve(SEGMENT + ".gz")).exists();
    }

    @Test
    void replayRenewsTheRestoreMarkerItsDataDirectoryNamesAndTheEndOfRecoveryRemovesIt() throws Exception {
        Path data = pgWal.getParent();
        String id = "20260101_000000-0a1b2c3d";
        Path marker = Files.createDirectories(repository.root().resolve("restores")).resolve(id + ".json");
        Files.writeString(marker, "{}");
        java.nio.file.attribute.FileTime stale = java.nio.file.attribute.FileTime.from(java.time.Instant.now().minusSeconds(7200));
        Files.setLastModifiedTime(marker, stale);
        Files.writeString(data.resolve("pg_wal/pgbackup_restore"), id + "\n");
        store(repository.walArchiveDir().resolve(SEGMENT + ".gz"), content(1000, 8));

        // A segment from the archive renews it.
        Sh.Result result = Sh.run(data, repository.restoreScript().toString(), SEGMENT, pgWal.resolve("RECOVERYXLOG").toString());
        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(Files.getLastModifiedTime(marker).toInstant()).isAfter(java.time.Instant.now().minusSeconds(600));

        // A prefetched one only every 16th segment: a hit costs no process otherwise.
        Path prefetch = Files.createDirectories(data.resolve("pg_wal/pgbackup_prefetch"));
        Files.writeString(prefetch.resolve(".trusted"), "fsynced\n");
        for (String name : List.of("00000001000000000000000F", "000000010000000000000010")) {
            Files.setLastModifiedTime(marker, stale);
            Files.write(prefetch.resolve(name), content(1000, 9));
            Sh.Result hit = Sh.run(data, repository.restoreScript().toString(), name, pgWal.resolve("RECOVERYXLOG").toString());
            assertThat(hit.exitCode()).as(hit.stderr()).isZero();
            assertThat(Files.getLastModifiedTime(marker).equals(stale)).as(name).isEqualTo(name.endsWith("F"));
        }

        // A pointer that is not a marker id is ignored: nothing outside restores/ is touched or created.
        Files.writeString(data.resolve("pg_wal/pgbackup_restore"), "../scripts/restore_wal\n");
        java.nio.file.attribute.FileTime script = Files.getLastModifiedTime(repository.restoreScript());
        assertThat(Sh.run(data, repository.restoreScript().toString(), SEGMENT, pgWal.resolve("RECOVERYXLOG").toString())
                .exitCode()).isZero();
        assertThat(Files.getLastModifiedTime(repository.restoreScript())).isEqualTo(script);
        assertThat(Sh.run(data, repository.restoreScript().toString(), "--end-of-recovery").exitCode()).isZero();
        assertThat(repository.restoreScript()).exists();
        assertThat(marker).exists();

        Files.writeString(data.resolve("pg_wal/pgbackup_restore"), id + "\n");
        Sh.Result end = Sh.run(data, repository.restoreScript().toString(), "--end-of-recovery");
        assertThat(end.exitCode()).as(end.stderr()).isZero();
        assertThat(marker).doesNotExist();
        assertThat(data.resolve("pg_wal/pgbackup_restore")).doesNotExist();
    }

    @Test
    void prefetchedSegmentsFromBeforeARestartOfTheMachineAreNotTrusted() throws Exception {
        Path data = pgWal.getParent();
        Path prefetch = Files.createDirectories(data.resolve("pg_wal/pgbackup_prefetch"));
        Files.write(prefetch.resolve(SEGMENT), content(1000, 6));
        byte[] archived = content(1000, 7);
        store(repository.walArchiveDir().resolve(SEGMENT + ".gz"), archived);
        Path dest = pgWal.resolve("RECOVERYXLOG");
        for (String marker : List.of("boot 00000000-0000-0000-0000-000000000000", "")) {
            if (marker.isEmpty()) {
                Files.deleteIfExists(prefetch.resolve(".trusted"));
            } else {
                Files.writeString(prefetch.resolve(".trusted"), marker);
            }

            Sh.Result result = Sh.run(data, repository.restoreScript().toString(), SEGMENT, dest.toString());

            assertThat(result.exitCode()).as(result.stderr()).isZero();
            assertThat(Files.readAllBytes(dest)).as(marker).isEqualTo(archived);
            assertThat(prefetch.resolve(SEGMENT)).exists();
        }
    }

    @Test
    void aSegmentNotInTheArchiveExitsOneQuietly() throws Exception {
        Sh.Result result = restore(SEGMENT, pgWal.resolve("RECOVERYXLOG"));

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).isEmpty();
        assertThat(pgWalEntries()).isEmpty();
    }

    @Test
    void aMissingHistoryFileExitsOneQuietly() throws Exception {
        Sh.Result result = restore("00000005.history", pgWal.resolve("RECOVERYHISTORY"));

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).isEmpty();
        assertThat(pgWalEntries()).isEmpty();
    }

    @Test
    void aDamagedFileStopsRecoveryInsteadOfEndingItAndLeavesNothingBehind() throws Exception {
        byte[] gz = ArchiveWalScriptTest.gzip(content(200_000, 2));
        Files.write(repository.walArchiveDir().resolve(SEGMENT + ".gz"), Arrays.copyOf(gz, gz.length / 2));

        Sh.Result result = restore(SEGMENT, pgWal.resolve("RECOVERYXLOG"));

        // PostgreSQL treats an exit code above 125 as fatal rather than as "end of archive".
        assertThat(result.exitCode()).isGreaterThan(125);
        assertThat(result.stderr()).contains("cannot restore");
        assertThat(pgWalEntries()).isEmpty();
    }

    @Test
    void refusesANameThatIsNotAPlainFileName() throws Exception {
        Files.write(work.resolve("secret"), content(10, 3));

        Sh.Result result = restore("../../secret", pgWal.resolve("RECOVERYXLOG"));

        assertThat(result.exitCode()).isGreaterThan(125);
        assertThat(pgWalEntries()).isEmpty();
    }

    private Sh.Result restore(String name, Path dest) throws IOException, InterruptedException {
        return Sh.run(work, repository.restoreScript().toString(), name, dest.toString());
    }

    /** Stores {@code content} as the archive script would: compressed by the tool its suffix names. */
    private void store(Path archived, byte[] content) throws Exception {
        String name = archived.getFileName().toString();
        if (name.endsWith(".gz")) {
            Files.write(archived, ArchiveWalScriptTest.gzip(content));
        } else if (name.endsWith(".zst") || name.endsWith(".lz4")) {
            Path plain = work.resolve("plain");
            Files.write(plain, content);
            String tool = name.endsWith(".zst") ? "zstd" : "lz4";
            // The command lines the archive script's compress() uses, from a file to a file.
            Sh.Result result = name.endsWith(".zst")
                    ? Sh.run(work, "zstd", "-q", "-1", "-f", plain.toString(), "-o", archived.toString())
                    : Sh.run(work, "lz4", "-q", "-1", "-f", plain.toString(), archived.toString());
            assertThat(result.exitCode()).as(tool + " (installed by .ci/run): " + result.stderr()).isZero();
        } else {
            Files.write(archived, content);
        }
    }

    private List<String> pgWalEntries() throws IOException {
        try (Stream<Path> entries = Files.list(pgWal)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static byte[] content(int size, long seed) {
        byte[] bytes = new byte[size];
        byte[] random = new byte[size / 2];
        new Random(seed).nextBytes(random);
        System.arraycopy(random, 0, bytes, 0, random.length);
        return bytes;
    }
}
