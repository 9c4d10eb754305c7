package io.pgbackup.core.archive;

import io.pgbackup.core.archive.ArchiveSetup.InitResult;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The contract of the generated {@code archive_wal.sh}, checked by running the real script as PostgreSQL would. */
class ArchiveWalScriptTest {
    private static final String SEGMENT = "0000000100000000000000A1";
    private static final String LOG_LINE = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ ";

    @TempDir
    Path work;

    Path backupDir;
    Repository repository;

    @BeforeEach
    void initRepository() {
        // A space in the path on purpose: every path in the script must be quoted.
        backupDir = work.resolve("backup dir");
        init(PgBackupConfig.builder().backupDir(backupDir).build());
    }

    private void init(PgBackupConfig config) {
        InitResult result = PgBackup.create(config).archiveSetup().init();
        repository = new Repository(result.backupDir());
    }

    @Test
    void archivesASegmentCompressedAndDurablyAndLogsOneLine() throws Exception {
        Path source = walFile(SEGMENT, 1 << 20, 1);

        Sh.Result result = archive(source, SEGMENT);

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        Path archived = repository.walArchiveDir().resolve(SEGMENT + ".gz");
        assertThat(gunzip(archived)).isEqualTo(Files.readAllBytes(source));
        assertThat(Files.getPosixFilePermissions(archived)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(archiveDirEntries()).containsExactly(SEGMENT + ".gz");
        assertThat(logLines()).singleElement().asString()
                .matches(LOG_LINE + "INFO " + SEGMENT + " archived size=1048576 stored=" + Files.size(archived)
                        + " compression=gzip");
    }

    @Test
    void withEncryptionOnTheScriptNeverStoresASegmentItself() throws Exception {
        Path key = io.pgbackup.core.internal.crypto.KeyGenerator.generate(work.resolve("pgbackup.key"), java.util.Optional.empty()).keyFile();
        init(PgBackupConfig.builder().backupDir(backupDir).encryption(io.pgbackup.core.config.EncryptionConfig.keyFile(key)).build());
        Path source = walFile(SEGMENT, 1 << 16, 1);

        Sh.Result result = archive(source, SEGMENT);

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr().strip()).doesNotContain("\n").contains("encryption is on").contains("PG_BACKUP_ARCHIVER=async");
        // No segment: only what init with the key stored to turn encryption on (the sealed inventory, its keyset).
        assertThat(archiveDirEntries()).containsExactly("inventory", "keys");
        // Where the key is, for the archiver the script starts; never the key.
        assertThat(Files.readString(repository.archiveScript())).contains("PG_BACKUP_ENCRYPTION_KEY_FILE=")
                .doesNotContain(Files.readString(key).strip());
    }

    @Test
    void aScriptRenderedWithoutTheKeyStoresNoPlainSegmentOnceTheRepositoryHoldsSealedObjects() throws Exception {
        // What pgbackup writes before its first sealed object: the sealed list of the plain objects of before.
        Path inventory = repository.walArchiveDir().resolve("inventory/plain_inventory.json");
        Files.createDirectories(inventory.getParent());
        Files.write(inventory, new byte[] {(byte) 0x89, 'P', 'G', 'B', 'S', 'E', 'A', 'L'});
        Path source = walFile(SEGMENT, 1 << 16, 1);

        Sh.Result result = archive(source, SEGMENT);

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr().strip()).doesNotContain("\n").contains("sealed").contains("re-run 'pgbackup init'");
        assertThat(repository.walArchiveDir().resolve(SEGMENT + ".gz")).doesNotExist();
    }

    @Test
    void archivesHistoryBackupAndPartialFilesToo() throws Exception {
        for (String name : List.of("00000002.history", "000000010000000000000002.00000028.backup",
                "000000010000000000000003.partial")) {
            Path source = walFile(name, 300, name.length());
            Sh.Result result = archive(source, name);
            assertThat(result.exitCode()).as(name + ": " + result.stderr()).isZero();
            assertThat(gunzip(repository.walArchiveDir().resolve(name + ".gz"))).isEqualTo(Files.readAllBytes(source));
        }
        assertThat(logLines()).hasSize(3).allMatch(line -> line.contains(" INFO ") && line.contains(" archived "));
    }

    @Test
    void reArchivingIdenticalContentSucceedsAndLeavesTheCopyAlone() throws Exception {
        Path source = walFile(SEGMENT, 1 << 20, 2);
        assertThat(archive(source, SEGMENT).exitCode()).isZero();
        Path archived = repository.walArchiveDir().resolve(SEGMENT + ".gz");
        FileTime before = Files.getLastModifiedTime(archived);
        byte[] bytes = Files.readAllBytes(archived);

        Sh.Result again = archive(source, SEGMENT);

        assertThat(again.exitCode()).as(again.stderr()).isZero();
        assertThat(Files.readAllBytes(archived)).isEqualTo(bytes);
        assertThat(Files.getLastModifiedTime(archived)).isEqualTo(before);
        assertThat(logLines()).hasSize(2);
        assertThat(logLines().get(1)).matches(LOG_LINE + "INFO " + SEGMENT + " already-archived size=1048576 .*");
    }

    @Test
    void reArchivingDifferentContentFailsAndKeepsTheArchivedBytes() throws Exception {
        assertThat(archive(walFile(SEGMENT, 1 << 20, 3), SEGMENT).exitCode()).isZero();
        Path archived = repository.walArchiveDir().resolve(SEGMENT + ".gz");
        byte[] bytes = Files.readAllBytes(archived);
        Path other = walFile("other/" + SEGMENT, 1 << 20, 4);

        Sh.Result result = archive(other, SEGMENT);

        assertThat(result.exitCode()).isNotZero();
        assertThat(Files.readAllBytes(archived)).isEqualTo(bytes);
        assertThat(archiveDirEntries()).containsExactly(SEGMENT + ".gz");
        assertThat(logLines().get(1)).matches(LOG_LINE + "ERROR " + SEGMENT + " conflict .*different content.*");
        assertThat(result.stderr()).contains("ERROR", SEGMENT);
    }

    @Test
    void aDamagedExistingCopyIsAConflictEvenWhenItsReadablePartMatches() throws Exception {
        Path source = walFile(SEGMENT, 100_000, 5);
        byte[] gz = gzip(Files.readAllBytes(source));
        Path archived = repository.walArchiveDir().resolve(SEGMENT + ".gz");

        Files.write(archived, concat(gz, "trailing garbage".getBytes()));
        assertThat(archive(source, SEGMENT).exitCode()).isNotZero();

        Files.write(archived, java.util.Arrays.copyOf(gz, gz.length / 2));
        assertThat(archive(source, SEGMENT).exitCode()).isNotZero();
        assertThat(Files.readAllBytes(archived)).hasSize(gz.length / 2);
    }

    @Test
    void aCopyArchivedUnderAnotherCompressionCountsAsArchived() throws Exception {
        Path source = walFile(SEGMENT, 50_000, 6);
        Files.copy(source, repository.walArchiveDir().resolve(SEGMENT));

        Sh.Result same = archive(source, SEGMENT);
        assertThat(same.exitCode()).as(same.stderr()).isZero();
        assertThat(archiveDirEntries()).containsExactly(SEGMENT);

        Sh.Result different = archive(walFile("other/" + SEGMENT, 50_000, 7), SEGMENT);
        assertThat(different.exitCode()).isNotZero();
        assertThat(archiveDirEntries()).containsExactly(SEGMENT);
    }

    @Test
    void aMissingSourceFailsAndLeavesNoFile() throws Exception {
        Sh.Result result = archive(work.resolve("pg_wal").resolve(SEGMENT), SEGMENT);

        assertThat(result.exitCode()).isNotZero();
        assertThat(archiveDirEntries()).isEmpty();
        assertThat(logLines()).singleElement().asString()
                .matches(LOG_LINE + "ERROR " + SEGMENT + " failed size=- source .* is missing or unreadable");
    }

    @Test
    void anUnreadableSourceFailsAndLeavesNoFile() throws Exception {
        Path source = walFile(SEGMENT, 1000, 8);
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("---------"));

        Sh.Result result = archive(source, SEGMENT);

        assertThat(result.exitCode()).isNotZero();
        assertThat(archiveDirEntries()).isEmpty();
        assertThat(logLines()).singleElement().asString().contains(" ERROR ");
    }

    @Test
    void anUnwritableArchiveDirectoryFailsAndLeavesNoFile() throws Exception {
        Path source = walFile(SEGMENT, 1000, 9);
        Files.setPosixFilePermissions(repository.walArchiveDir(), PosixFilePermissions.fromString("r-x------"));
        try {
            Sh.Result result = archive(source, SEGMENT);

            assertThat(result.exitCode()).isNotZero();
            assertThat(archiveDirEntries()).isEmpty();
            assertThat(logLines()).singleElement().asString().matches(LOG_LINE + "ERROR " + SEGMENT + " failed .*");
        } finally {
            Files.setPosixFilePermissions(repository.walArchiveDir(), PosixFilePermissions.fromString("rwx------"));
        }
    }

    @Test
    void aFailingCompressorLeavesNoFileUnderAnyName() throws Exception {
        // Compressors that write part of their output and then fail, as on a full disk.
        Path stubs = Files.createDirectories(work.resolve("stubs"));
        for (String tool : List.of("gzip", "pigz")) {
            Path stub = stubs.resolve(tool);
            Files.writeString(stub, "#!/bin/sh\nhead -c 4096\nexit 1\n");
            Files.setPosixFilePermissions(stub, PosixFilePermissions.fromString("rwx------"));
        }
        Path source = walFile(SEGMENT, 1 << 20, 10);

        Sh.Result result = Sh.run(work, Map.of("PATH", stubs + ":" + System.getenv("PATH")),
                repository.archiveScript().toString(), source.toString(), SEGMENT);

        assertThat(result.exitCode()).isNotZero();
        assertThat(archiveDirEntries()).isEmpty();
        assertThat(logLines()).singleElement().asString().matches(LOG_LINE + "ERROR " + SEGMENT + " failed .*");
    }

    @Test
    void anotherArchiversTemporaryFileIsLeftAloneAndOnlyAnIdleOneRemoved() throws Exception {
        // A primary and its standby (archive_mode = always) archive the same segment at once.
        Path busy = Files.write(repository.walArchiveDir().resolve("." + SEGMENT + ".gz.tmp.4242"), new byte[10]);
        Path idle = Files.write(repository.walArchiveDir().resolve("." + SEGMENT + ".gz.tmp.4343"), new byte[10]);
        Files.setLastModifiedTime(idle, FileTime.from(java.time.Instant.now().minus(Duration.ofMinutes(30))));
        Path source = walFile(SEGMENT, 1 << 20, 12);

        Sh.Result result = archive(source, SEGMENT);

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(busy).exists();
        assertThat(idle).doesNotExist();
        assertThat(gunzip(repository.walArchiveDir().resolve(SEGMENT + ".gz"))).isEqualTo(Files.readAllBytes(source));
    }

    @Test
    void storesThePlainFileWhenCompressionIsNone() throws Exception {
        init(PgBackupConfig.builder().backupDir(backupDir).compression(Compression.NONE).build());
        Path source = walFile(SEGMENT, 70_000, 11);

        assertThat(archive(source, SEGMENT).exitCode()).isZero();

        assertThat(Files.readAllBytes(repository.walArchiveDir().resolve(SEGMENT))).isEqualTo(Files.readAllBytes(source));
        assertThat(logLines()).singleElement().asString().endsWith("compression=none");
    }

    @Test
    void rejectsANameThatIsNotAPlainFileName() throws Exception {
        Path source = walFile(SEGMENT, 1000, 12);

        assertThat(archive(source, "../escaped").exitCode()).isEqualTo(2);
        assertThat(archive(source, ".hidden").exitCode()).isEqualTo(2);
        assertThat(archiveDirEntries()).isEmpty();
        assertThat(Files.exists(backupDir.resolve("escaped.gz"))).isFalse();
    }

    @Test
    void anUnreachableRemoteIsAWarningAndNeverFailsTheArchive() throws Exception {
        int closedPort = PgCluster.freePort();
        init(PgBackupConfig.builder().backupDir(backupDir)
                .remote("127.0.0.1", "nobody", "/nonexistent/backups", closedPort).build());
        Path source = walFile(SEGMENT, 1 << 20, 13);

        Sh.Result result = archive(source, SEGMENT);

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(repository.walArchiveDir().resolve(SEGMENT + ".gz")).exists();
        // The copy runs detached: poll the log for its verdict.
        PgCluster.await(Duration.ofSeconds(60), "the remote sync's warning in " + repository.walArchiveLog(),
                () -> logLines().size() == 2);
        assertThat(logLines().get(0)).contains(" INFO " + SEGMENT + " archived ");
        assertThat(logLines().get(1)).matches(LOG_LINE + "WARNING " + SEGMENT
                + " remote-sync-failed size=\\d+ rsync to nobody@127.0.0.1:/nonexistent/backups/wal_archive/ exited \\d+: .*");
    }

    private Sh.Result archive(Path source, String name) throws IOException, InterruptedException {
        return Sh.run(work, repository.archiveScript().toString(), source.toString(), name);
    }

    /** A WAL-like file: a random part (records) then zeros (unused space), deterministic per seed. */
    private Path walFile(String relative, int size, long seed) throws IOException {
        byte[] bytes = new byte[size];
        byte[] random = new byte[size / 3];
        new Random(seed).nextBytes(random);
        System.arraycopy(random, 0, bytes, 0, random.length);
        Path file = work.resolve("pg_wal").resolve(relative);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        return file;
    }

    private List<String> archiveDirEntries() throws IOException {
        try (Stream<Path> entries = Files.list(repository.walArchiveDir())) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private List<String> logLines() throws IOException {
        Path log = repository.walArchiveLog();
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    static byte[] gunzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return in.readAllBytes();
        }
    }

    static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(content);
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
