package io.pgbackup.core.crypto;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.ArchiverConfig;
import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.testing.ArchiverMain;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.MarkerScan;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.verify.VerifyReport.BackupVerdict;
import io.pgbackup.core.verify.VerifyReport.VerifyCheck;
import io.pgbackup.core.verify.VerifyReport;
import io.pgbackup.core.verify.VerifyRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Encryption at rest end to end, on one archiving cluster: a repository that was plain, then sealed
 * (mixed), PITR from both kinds of backup with the key, nothing readable without it, every tampering
 * refused, and a host with only the public key. Methods run in order on the shared cluster.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EncryptionClusterTest {
    private static final String MARKER = "MARKER-c0ffee-71d";

    @TempDir
    static Path work;

    static ArchivingCluster source;
    static PgBackup plain;
    static PgBackup sealed;
    static Path keyFile;
    static BackupInfo plainBackup;
    static BackupInfo sealedBackup;
    static String expected;
    static final List<PgCluster> copies = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        source = ArchivingCluster.create(work);
        plain = source.pgBackup();
        keyFile = plain.encryption().generateKey(work.resolve("pgbackup.key"), Optional.empty()).keyFile();
    }

    @AfterAll
    static void stop() {
        copies.forEach(PgCluster::close);
        ArchivingCluster.stopArchivers(source.repository());
        source.close();
    }

    private static PgBackup withKey(EncryptionConfig encryption) {
        PgBackupConfig base = plain.config();
        return PgBackup.builder(base.toBuilder().encryption(encryption)
                .archiver(base.archiver().withMode(ArchiverConfig.Mode.ASYNC)).build()).launcher(ArchiverMain.launcher()).build();
    }

    private static PgCluster restore(PgBackup pg, String id, String name) throws Exception {
        long started = System.nanoTime();
        Path dir = work.resolve(name);
        pg.restorePlanner().execute(pg.restorePlanner().plan(new RestoreRequest(Optional.of(id), new RecoveryTarget.EndOfWal(),
                TargetAction.PROMOTE, Optional.of(dir), false)));
        PgCluster copy = PgCluster.startExisting(dir, work.resolve("run-" + name), source.cluster().password());
        copies.add(copy);
        copy.awaitPromoted(Duration.ofMinutes(2));
        System.out.printf("elapsed restore %s: %d ms%n", name, (System.nanoTime() - started) / 1_000_000);
        return copy;
    }

    @Test
    @Order(1)
    void aRepositoryTurnedSealedStoresNoPlaintextAndRestoresFromBothKindsOfBackup() throws Exception {
        long started = System.nanoTime();
        source.cluster().execute("CREATE TABLE early (id int PRIMARY KEY)", "INSERT INTO early SELECT generate_series(1, 100)");
        plainBackup = plain.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();

        // Encryption on for the existing repository: init rewrites the scripts, the archiver seals from now on.
        sealed = withKey(EncryptionConfig.keyFile(keyFile));
        sealed.archiveSetup().init();
        source.cluster().execute("CREATE TABLE secrets AS SELECT g AS id, '" + MARKER + "' || g AS v FROM generate_series(1, 20000) g");
        sealedBackup = sealed.backups().backup(BackupOptions.defaults());
        source.cluster().execute("INSERT INTO secrets SELECT g, '" + MARKER + "' || g FROM generate_series(20001, 30000) g");
        expected = fingerprint(source.cluster(), "secrets");
        String lastSegment = source.switchAndAwaitArchived();

        System.out.printf("elapsed %s: %d ms%n", "two backups", (System.nanoTime() - started) / 1_000_000);
        Path repo = source.repository();
        assertThat(sealedFiles(repo)).as("sealed objects").contains("base/" + sealedBackup.id() + "/base.tar.gz",
                "base/" + sealedBackup.id() + "/backup_manifest", "base/" + sealedBackup.id() + "/pgbackup_manifest.json",
                "wal_archive/" + lastSegment + ".gz");
        assertThat(sealedFiles(repo)).noneMatch(k -> k.startsWith("base/" + plainBackup.id() + "/"));
        assertThat(MarkerScan.filesHolding(repo, MARKER)).as("files holding the marker, raw or decompressed").isEmpty();
        System.out.printf("elapsed %s: %d ms%n", "scans", (System.nanoTime() - started) / 1_000_000);

        // One restore here (~20 s each): the backup of before encryption replays plain WAL, then sealed WAL. A sealed
        // backup's own restore is aHostWithOnlyThePublicKey...'s (and S3EncryptionTest's, with this kind of key).
        assertThat(fingerprint(restore(sealed, plainBackup.id(), "from-plain"), "secrets")).isEqualTo(expected);
        System.out.printf("elapsed %s: %d ms%n", "mixed+pitr", (System.nanoTime() - started) / 1_000_000);
    }

    @Test
    @Order(2)
    void withoutTheKeyEachReadIsOneLineAndNothingIsWritten() throws Exception {
        PgBackup keyless = PgBackup.create(plain.config());
        Path dir = work.resolve("keyless");
        assertThatThrownBy(() -> keyless.restorePlanner().plan(new RestoreRequest(Optional.of(sealedBackup.id()),
                new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.of(dir), false)))
                .isInstanceOf(PgBackupException.class)
                .hasMessageContaining("backup " + sealedBackup.id() + ": it is sealed and this host has no key")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(dir).doesNotExist();

        String segment = lastSealedSegment();
        Path dest = work.resolve("fetched");
        assertThatThrownBy(() -> keyless.fetchWal(segment, dest)).hasMessageContaining(segment).hasMessageContaining("is sealed")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(dest).doesNotExist();

        // verify without the key: stored sizes and SHA-256 only, and it says so.
        VerifyReport report = keyless.verifier().verify(VerifyRequest.of(sealedBackup.id()));
        BackupVerdict verdict = report.backups().get(0);
        assertThat(verdict.ok()).as(verdict.toString()).isTrue();
        assertThat(verdict.checks()).filteredOn(c -> c.name().startsWith("base.tar"))
                .extracting(VerifyCheck::detail).allMatch(d -> d.contains("authenticity and content were not checked"));
        assertThat(verdict.checks()).filteredOn(c -> c.name().equals("wal archive"))
                .extracting(VerifyCheck::detail).singleElement().asString().contains("sealed: present, not opened");
        VerifyReport keyed = sealed.verifier().verify(VerifyRequest.of(sealedBackup.id()));
        assertThat(keyed.ok()).as(keyed.toString()).isTrue();

        // A sealed timeline history (a promoted copy archived here): key-less verify says it was not opened.
        Path history = source.repository().resolve("wal_archive/00000002.history");
        io.pgbackup.core.internal.crypto.Sealing.load(EncryptionConfig.keyFile(keyFile), java.time.Clock.systemUTC())
                .seal(new io.pgbackup.core.internal.storage.LocalStorage(source.repository()))
                .write("wal_archive/00000002.history", "1\t0/FF000000\tno recovery target specified\n".getBytes(),
                        io.pgbackup.core.storage.Storage.WriteMode.CREATE_NEW);
        try {
            VerifyReport withHistory = keyless.verifier().verify(VerifyRequest.of(sealedBackup.id()));
            assertThat(withHistory.ok()).as(withHistory.toString()).isTrue();
            assertThat(withHistory.backups().get(0).checks()).filteredOn(c -> c.name().equals("wal archive"))
                    .extracting(VerifyCheck::detail).singleElement().asString()
                    .contains("timeline history 00000002.history sealed: not opened, authenticity and content not checked");
        } finally {
            Files.delete(history);
        }
    }

    @Test
    @Order(3)
    void anAlteredTarSegmentOrManifestAndASegmentUnderAnotherNameAreRefusedNamingThem() throws Exception {
        Path repo = source.repository();
        String id = sealedBackup.id();
        String segment = lastSealedSegment();
        Path segmentFile = repo.resolve("wal_archive/" + segment + ".gz");
        byte[] original = Files.readAllBytes(segmentFile);
        Path dest = work.resolve("fetched-" + segment);
        try {
            flip(segmentFile);
            assertThatThrownBy(() -> sealed.fetchWal(segment, dest))
                    .hasMessageContaining("wal_archive/" + segment + ".gz failed authentication");
            assertThat(dest).doesNotExist();
            // Another segment's sealed bytes under this name: refused, though every byte is genuine.
            Files.copy(repo.resolve("wal_archive/" + previousSealedSegment(segment) + ".gz"), segmentFile,
                    StandardCopyOption.REPLACE_EXISTING);
            assertThatThrownBy(() -> sealed.fetchWal(segment, dest)).hasMessageContaining("failed authentication");
            assertThat(dest).doesNotExist();
        } finally {
            Files.write(segmentFile, original);
        }
        assertThat(sealed.fetchWal(segment, dest)).isTrue();

        for (String file : List.of("pgbackup_manifest.json", "base.tar.gz")) {
            Path stored = repo.resolve("base/" + id + "/" + file);
            byte[] before = Files.readAllBytes(stored);
            Path dir = work.resolve("tampered-" + file);
            try {
                flip(stored);
                assertThatThrownBy(() -> sealed.restorePlanner().execute(sealed.restorePlanner().plan(new RestoreRequest(
                        Optional.of(id), new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.of(dir), false))))
                        .isInstanceOf(PgBackupException.class).hasMessageContaining(file)
                        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
                assertThat(dir).doesNotExist();
            } finally {
                Files.write(stored, before);
            }
        }
    }

    @Test
    @Order(4)
    void aHostWithOnlyThePublicKeyBacksUpAndArchivesButCannotRestore() throws Exception {
        Path privateKey = work.resolve("pair.key");
        Path publicKey = work.resolve("pair.pub");
        plain.encryption().generateKey(privateKey, Optional.of(publicKey));
        PgBackup writeOnly = withKey(EncryptionConfig.publicKeyFile(publicKey));
        // The running archiver has the earlier key; the next one started reads the public key init renders.
        writeOnly.archiveSetup().init();
        source.stopArchiver();
        BackupInfo backup = writeOnly.backups().backup(BackupOptions.defaults());
        // An incremental needs the parent's file list, sealed like the rest: this host says so and plans a full.
        io.pgbackup.core.backup.BackupPlan incr = writeOnly.backups()
                .plan(BackupOptions.defaults().withType(io.pgbackup.core.backup.BackupType.INCR));
        assertThat(incr.isFull()).as(incr.describe()).isTrue();
        assertThat(incr.reason()).contains("only the public encryption key");
        source.cluster().execute("INSERT INTO secrets SELECT g, '" + MARKER + "' || g FROM generate_series(30001, 31000) g");
        String after = fingerprint(source.cluster(), "secrets");
        String segment = source.switchAndAwaitArchived();
        assertThat(sealedFiles(source.repository())).contains("wal_archive/" + segment + ".gz");

        Path dir = work.resolve("public-only");
        assertThatThrownBy(() -> writeOnly.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()),
                new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.of(dir), false)))
                .hasMessageContaining("has only the public key");
        assertThatThrownBy(() -> writeOnly.fetchWal(segment, work.resolve("pub-fetch"))).hasMessageContaining("has only the public key");
        assertThat(dir).doesNotExist();

        PgBackup reader = withKey(EncryptionConfig.keyFile(privateKey));
        reader.archiveSetup().init();
        source.stopArchiver();
        assertThat(fingerprint(restore(reader, backup.id(), "from-public-host"), "secrets")).isEqualTo(after);
    }

    private static String lastSealedSegment() throws IOException {
        try (Stream<Path> files = Files.list(source.repository().resolve("wal_archive"))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}\\.gz"))
                    .filter(n -> isSealed(source.repository().resolve("wal_archive/" + n))).sorted()
                    .reduce((a, b) -> b).orElseThrow().replace(".gz", "");
        }
    }

    private static String previousSealedSegment(String segment) throws IOException {
        try (Stream<Path> files = Files.list(source.repository().resolve("wal_archive"))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}\\.gz"))
                    .filter(n -> isSealed(source.repository().resolve("wal_archive/" + n)))
                    .map(n -> n.replace(".gz", "")).filter(n -> n.compareTo(segment) < 0).sorted()
                    .reduce((a, b) -> b).orElseThrow();
        }
    }

    private static void flip(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(file, bytes);
    }

    private static boolean isSealed(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(8);
            return head.length == 8 && (head[0] & 0xff) == 0x89 && new String(head, 1, 7, StandardCharsets.US_ASCII).equals("PGBSEAL");
        } catch (IOException e) {
            return false;
        }
    }

    /** Repository-relative names of the sealed files. */
    private static List<String> sealedFiles(Path repo) throws IOException {
        try (Stream<Path> files = Files.walk(repo)) {
            return files.filter(Files::isRegularFile).filter(EncryptionClusterTest::isSealed)
                    .map(p -> repo.relativize(p).toString()).sorted().toList();
        }
    }
}
