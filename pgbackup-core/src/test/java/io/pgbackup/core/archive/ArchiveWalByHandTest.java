package io.pgbackup.core.archive;

import io.pgbackup.core.archive.ArchiveSetup.InitResult;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.ArchiverConfig;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.ArchiverMain;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16 item 6: an async archive_wal.sh run by hand (not by PostgreSQL for a file of its
 * pg_wal) stores and compares the file itself, as the sync mode does, instead of waiting for an
 * acknowledgement no archiver will ever write. The acknowledgement timeout is the default (60 s)
 * on purpose: a call that waited for it would fail (exit 1), and would have created the spool and
 * started an archiver, which these tests check did not happen.
 */
class ArchiveWalByHandTest {
    private static final String SEGMENT = "0000000100000000000000B7";
    private static final String LOG_LINE = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ ";

    @TempDir
    Path work;

    Path backupDir;
    Repository repository;

    @BeforeEach
    void initAsyncRepository() {
        backupDir = work.resolve("backup dir");
        PgBackupConfig base = PgBackupConfig.builder().backupDir(backupDir).build();
        PgBackupConfig config = base.toBuilder().archiver(base.archiver().withMode(ArchiverConfig.Mode.ASYNC)).build();
        PgBackup pg = PgBackup.builder(config).launcher(ArchiverMain.launcher()).build();
        InitResult result = pg.archiveSetup().init();
        repository = new Repository(result.backupDir());
        assertThat(pg.archiveSetup().archiveCommand()).isNotEmpty();
    }

    @Test
    void byHandFromAnotherDirectoryANewFileIsStoredAnIdenticalOneKeptAndADifferentOneRefused() throws Exception {
        assertThat(Files.readString(repository.archiveScript())).contains("ARCHIVER=async");
        Path elsewhere = Files.createDirectories(work.resolve("elsewhere"));
        Path source = file(work.resolve("copies").resolve(SEGMENT), 1 << 20, 1);

        Sh.Result stored = Sh.run(elsewhere, repository.archiveScript().toString(), source.toString(), SEGMENT);
        assertThat(stored.exitCode()).as(stored.stderr()).isZero();
        Path archived = repository.walArchiveDir().resolve(SEGMENT + ".gz");
        assertThat(ArchiveWalScriptTest.gunzip(archived)).isEqualTo(Files.readAllBytes(source));
        byte[] bytes = Files.readAllBytes(archived);

        Sh.Result identical = Sh.run(elsewhere, repository.archiveScript().toString(), source.toString(), SEGMENT);
        assertThat(identical.exitCode()).as(identical.stderr()).isZero();

        Path other = file(work.resolve("other").resolve(SEGMENT), 1 << 20, 2);
        Sh.Result different = Sh.run(elsewhere, repository.archiveScript().toString(), other.toString(), SEGMENT);
        assertThat(different.exitCode()).isEqualTo(1);
        assertThat(different.stderr()).contains("ERROR " + SEGMENT + " conflict");
        assertThat(Files.readAllBytes(archived)).isEqualTo(bytes);

        assertThat(logLines()).hasSize(3);
        assertThat(logLines().get(0)).matches(LOG_LINE + "INFO " + SEGMENT + " archived size=1048576 stored=\\d+ compression=gzip");
        assertThat(logLines().get(1)).matches(LOG_LINE + "INFO " + SEGMENT + " already-archived size=1048576 .*");
        assertThat(logLines().get(2)).matches(LOG_LINE + "ERROR " + SEGMENT + " conflict .*different content.*");
        assertNoArchiverWasInvolved();
    }

    @Test
    void byHandInPgdataForAFileOutsidePgWalOrOneWithoutReadyMarkTheScriptStoresItItself() throws Exception {
        // A PGDATA's layout; PostgreSQL's own call would be pg_wal/NAME with its .ready present.
        Path pgData = Files.createDirectories(work.resolve("pgdata"));
        Files.writeString(pgData.resolve("PG_VERSION"), "15\n");
        Files.createDirectories(pgData.resolve("pg_wal/archive_status"));
        Path outside = file(work.resolve("copies").resolve(SEGMENT), 1 << 20, 3);

        Sh.Result stored = Sh.run(pgData, repository.archiveScript().toString(), outside.toString(), SEGMENT);
        assertThat(stored.exitCode()).as(stored.stderr()).isZero();
        assertThat(ArchiveWalScriptTest.gunzip(repository.walArchiveDir().resolve(SEGMENT + ".gz"))).isEqualTo(Files.readAllBytes(outside));

        // The same segment in pg_wal, already archived by PostgreSQL (.done, no .ready): identical, so success.
        Files.copy(outside, pgData.resolve("pg_wal").resolve(SEGMENT));
        Files.writeString(pgData.resolve("pg_wal/archive_status").resolve(SEGMENT + ".done"), "");
        Sh.Result again = Sh.run(pgData, repository.archiveScript().toString(), "pg_wal/" + SEGMENT, SEGMENT);
        assertThat(again.exitCode()).as(again.stderr()).isZero();

        // Different content under that name, in pg_wal this time: refused, the archived copy untouched.
        byte[] bytes = Files.readAllBytes(repository.walArchiveDir().resolve(SEGMENT + ".gz"));
        file(pgData.resolve("pg_wal").resolve(SEGMENT), 1 << 20, 4);
        Sh.Result different = Sh.run(pgData, repository.archiveScript().toString(), "pg_wal/" + SEGMENT, SEGMENT);
        assertThat(different.exitCode()).isEqualTo(1);
        assertThat(Files.readAllBytes(repository.walArchiveDir().resolve(SEGMENT + ".gz"))).isEqualTo(bytes);

        assertThat(logLines()).hasSize(3);
        assertThat(logLines().get(0)).matches(LOG_LINE + "INFO " + SEGMENT + " archived size=1048576 .*");
        assertThat(logLines().get(1)).matches(LOG_LINE + "INFO " + SEGMENT + " already-archived size=1048576 .*");
        assertThat(logLines().get(2)).matches(LOG_LINE + "ERROR " + SEGMENT + " conflict .*");
        assertNoArchiverWasInvolved();
    }

    /** The ack wait would have made the spool and started an archiver, and on timeout logged that it got no acknowledgement. */
    private void assertNoArchiverWasInvolved() throws IOException {
        assertThat(backupDir.resolve("spool/archiver")).doesNotExist();
        assertThat(logLines()).noneMatch(l -> l.contains("acknowledgement") || l.contains(" archiver "));
    }

    private static Path file(Path file, int size, long seed) throws IOException {
        byte[] bytes = new byte[size];
        byte[] random = new byte[size / 3];
        new Random(seed).nextBytes(random);
        System.arraycopy(random, 0, bytes, 0, random.length);
        Files.createDirectories(file.getParent());
        return Files.write(file, bytes);
    }

    private List<String> logLines() throws IOException {
        Path log = repository.walArchiveLog();
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }
}
