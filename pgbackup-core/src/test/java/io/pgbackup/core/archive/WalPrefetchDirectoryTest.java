package io.pgbackup.core.archive;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.archive.WalPrefetcher;
import io.pgbackup.core.testing.ArchiverMain;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 16: {@code wal-fetch --ahead --into DIR} works only in pgbackup's own prefetch directory,
 * never through a link, and deletes only files of its own there.
 */
class WalPrefetchDirectoryTest {
    private static final int SEGMENT_SIZE = 1 << 20;
    private static final String RESTORED = "000000010000000000000001";
    private static final String STALE_SEGMENT = "000000010000000000000005";

    @TempDir
    Path work;

    PgBackup pg;

    @BeforeEach
    void repository() {
        PgBackupConfig config = PgBackupConfig.builder().backupDir(work.resolve("repo")).build();
        pg = PgBackup.builder(config).launcher(ArchiverMain.launcher()).build();
        pg.archiveSetup().init();
    }

    /** A user's directory: some file, and one named like a segment. */
    private Path userFiles(String name) throws IOException {
        Path dir = Files.createDirectories(work.resolve(name));
        Files.writeString(dir.resolve("notes.txt"), "keep me");
        Files.writeString(dir.resolve(STALE_SEGMENT), "mine, not a segment");
        return dir;
    }

    @Test
    void aLinkedDirectoryIsRefusedAndWhatItPointsAtIsUntouched() throws Exception {
        Path userDir = userFiles("user");
        List<String> before = listing(userDir);
        Path link = Files.createDirectories(work.resolve("data/pg_wal")).resolve("pgbackup_prefetch");
        Files.createSymbolicLink(link, userDir);

        assertRefused(link, "is a link");
        assertThat(listing(userDir)).isEqualTo(before);
        assertThat(Files.readString(userDir.resolve(STALE_SEGMENT))).isEqualTo("mine, not a segment");
    }

    @Test
    void aDirectoryThatIsNotItsOwnIsRefusedAndUntouched() throws Exception {
        Path userDir = userFiles("stuff");
        List<String> before = listing(userDir);
        assertRefused(userDir, "is not pgbackup's prefetch directory");
        assertThat(listing(userDir)).isEqualTo(before);
    }

    /** After a reboot, segments it prefetched may be torn and go; a file someone else put there stays. */
    @Test
    void inItsOwnDirectoryOnlyItsOwnFilesAreDeletedAfterAReboot() throws Exception {
        assumeTrue(WalPrefetcher.bootId().isPresent(), "needs /proc/sys/kernel/random/boot_id");
        Path dir = Files.createDirectories(work.resolve("data/pg_wal/pgbackup_prefetch"));
        Files.writeString(dir.resolve("notes.txt"), "keep me");
        Files.writeString(dir.resolve(STALE_SEGMENT), "torn");
        Files.writeString(dir.resolve(".trusted"), "boot of-another-boot\n");

        assertThat(pg.prefetchWal(RESTORED, SEGMENT_SIZE, 4, dir)).isZero();
        assertThat(Files.readString(dir.resolve("notes.txt"))).isEqualTo("keep me");
        assertThat(dir.resolve(STALE_SEGMENT)).doesNotExist();
        assertThat(Files.readString(dir.resolve(".trusted")).strip()).isEqualTo("boot " + WalPrefetcher.bootId().get());
        assertThat(dir.resolve(WalPrefetcher.END_MARKER)).exists();
    }

    /** Recovery has ended (no recovery.signal): its own files go, anything else stays, with the directory. */
    @Test
    void whenRecoveryHasEndedOnlyItsOwnFilesAreDeleted() throws Exception {
        Path data = Files.createDirectories(work.resolve("data"));
        Files.writeString(data.resolve("PG_VERSION"), "15\n");
        Path dir = Files.createDirectories(data.resolve("pg_wal/pgbackup_prefetch"));
        Files.writeString(dir.resolve("notes.txt"), "keep me");
        Files.writeString(dir.resolve(STALE_SEGMENT), "prefetched");

        pg.prefetchWal(RESTORED, SEGMENT_SIZE, 4, dir);
        assertThat(Files.readString(dir.resolve("notes.txt"))).isEqualTo("keep me");
        assertThat(listing(dir)).containsExactly("notes.txt");

        // With only its own files in it, the directory goes too.
        Files.delete(dir.resolve("notes.txt"));
        Files.writeString(dir.resolve(STALE_SEGMENT), "prefetched");
        pg.prefetchWal(RESTORED, SEGMENT_SIZE, 4, dir);
        assertThat(dir).doesNotExist();
    }

    private void assertRefused(Path dir, String why) {
        assertThatThrownBy(() -> pg.prefetchWal(RESTORED, SEGMENT_SIZE, 4, dir))
                .isInstanceOf(PgBackupException.class)
                .hasMessageContaining(why)
                .hasMessageContaining("pg_wal/pgbackup_prefetch")
                .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(ErrorCode.REFUSED))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
