package io.pgbackup.core.verify;

import io.pgbackup.core.verify.VerifyReport.VerifyCheck;
import io.pgbackup.core.verify.VerifyReport.BackupVerdict;
import io.pgbackup.core.internal.verify.VerificationRecord;

import io.pgbackup.core.internal.verify.VerificationRecords;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.status.StatusReport;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** verify against real backups of a real archiving cluster, intact and damaged in each way the issue names. */
class VerifierTest {
    @TempDir
    Path work;

    ArchivingCluster source;
    PgBackup pg;

    @BeforeEach
    void start() throws Exception {
        source = ArchivingCluster.withOrders(work, 2000);
        pg = source.pgBackup();
    }

    @AfterEach
    void stop() {
        source.close();
    }

    /** A backup followed by two archived segments of later WAL; returns the backup and those segments. */
    private BackupInfo backupWithLaterWal(List<String> laterSegments) throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        for (int i = 0; i < 2; i++) {
            source.cluster().execute("INSERT INTO orders SELECT g, 'late' FROM generate_series(" + (10_000 * (i + 1)) + ", "
                    + (10_000 * (i + 1) + 500) + ") g");
            laterSegments.add(source.switchAndAwaitArchived());
        }
        return backup;
    }

    private Path walFile(String segment) {
        return source.repository().resolve("wal_archive").resolve(segment + Compression.GZIP.suffix());
    }

    @Test
    void aGoodBackupPassesEveryCheckAndTheResultIsRecorded() throws Exception {
        List<String> later = new java.util.ArrayList<>();
        BackupInfo backup = backupWithLaterWal(later);

        VerifyReport report = pg.verifier().verify(VerifyRequest.newest());

        assertThat(report.ok()).as(report.toString()).isTrue();
        BackupVerdict verdict = report.backups().get(0);
        assertThat(verdict.backupId()).isEqualTo(backup.id());
        assertThat(verdict.checks()).extracting(VerifyCheck::name)
                .containsExactly("pgbackup_manifest.json", "backup_manifest", "base.tar.gz", "pg_wal.tar.gz", "wal archive");
        assertThat(check(verdict, "base.tar.gz").detail()).contains("match backup_manifest (CRC32C)");
        assertThat(check(verdict, "wal archive").detail()).contains("continuous").contains(later.get(1));
        assertThat(verdict.firstFailure()).isEmpty();

        VerificationRecord record = new VerificationRecords(new io.pgbackup.core.internal.storage.Repository(Path.of(backup.location()).getParent().getParent())).read(backup.id()).orElseThrow();
        assertThat(record.ok()).isTrue();
        assertThat(record.lastRestoreTest()).isNull();
    }

    @Test
    void aFlippedByteInBaseTarIsNamed() throws Exception {
        BackupInfo backup = backupWithLaterWal(new java.util.ArrayList<>());
        Path base = Path.of(backup.location()).resolve("base.tar.gz");
        flipByte(base, Files.size(base) / 2);

        BackupVerdict verdict = pg.verifier().verify(VerifyRequest.of(backup.id())).backups().get(0);

        assertThat(verdict.ok()).isFalse();
        assertThat(verdict.firstFailure()).get().asString().startsWith("base.tar.gz: ");
        assertThat(check(verdict, "pg_wal.tar.gz").ok()).isTrue();
        assertThat(check(verdict, "wal archive").ok()).isTrue();
        assertThat(new VerificationRecords(new io.pgbackup.core.internal.storage.Repository(Path.of(backup.location()).getParent().getParent())).read(backup.id()).orElseThrow().ok()).isFalse();
    }

    @Test
    void aFlippedByteInAnArchivedWalFileNamesThatSegment() throws Exception {
        List<String> later = new java.util.ArrayList<>();
        backupWithLaterWal(later);
        Path damaged = walFile(later.get(0));
        flipByte(damaged, Files.size(damaged) / 2);

        BackupVerdict verdict = pg.verifier().verify(VerifyRequest.newest()).backups().get(0);

        assertThat(verdict.ok()).isFalse();
        assertThat(verdict.firstFailure()).get().asString()
                .startsWith("wal archive: " + later.get(0) + ".gz is damaged");
        assertThat(check(verdict, "base.tar.gz").ok()).isTrue();
    }

    @Test
    void aRemovedWalSegmentIsNamedAsTheFirstMissing() throws Exception {
        List<String> later = new java.util.ArrayList<>();
        backupWithLaterWal(later);
        Files.delete(walFile(later.get(0)));

        BackupVerdict verdict = pg.verifier().verify(VerifyRequest.newest()).backups().get(0);

        assertThat(verdict.ok()).isFalse();
        assertThat(verdict.firstFailure()).get().asString()
                .startsWith("wal archive: " + later.get(0) + " is missing from the archive");
    }

    @Test
    void aFileInsideTheTarThatDiffersFromPostgresManifestFailsEvenWithPgbackupsShaFixed() throws Exception {
        BackupInfo backup = backupWithLaterWal(new java.util.ArrayList<>());
        rewriteBaseTar(backup, "PG_VERSION", "14\n");

        BackupVerdict verdict = pg.verifier().verify(VerifyRequest.of(backup.id())).backups().get(0);

        assertThat(verdict.ok()).isFalse();
        assertThat(verdict.firstFailure()).get().asString()
                .startsWith("base.tar.gz: PG_VERSION has CRC32C").contains("backup_manifest says");
        // Only the comparison with PostgreSQL's manifest catches it.
        assertThat(verdict.checks().stream().filter(c -> !c.ok())).extracting(VerifyCheck::name).containsExactly("base.tar.gz");
    }

    @Test
    void allGivesOneVerdictPerBackupAndFailsIfAnyFails() throws Exception {
        BackupInfo older = pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        BackupInfo newer = pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        Path base = Path.of(older.location()).resolve("base.tar.gz");
        flipByte(base, Files.size(base) / 3);

        List<String> seen = new java.util.ArrayList<>();
        VerifyReport report = pg.verifier().verify(VerifyRequest.every(), v -> seen.add(v.backupId()));

        assertThat(report.ok()).isFalse();
        assertThat(seen).containsExactly(older.id(), newer.id());
        assertThat(report.backups()).extracting(BackupVerdict::ok).containsExactly(false, true);
        assertThat(report.failed()).extracting(BackupVerdict::backupId).containsExactly(older.id());
    }

    @Test
    void aBackupWhoseManifestNoLongerParsesIsLeftOutOfListFailedByVerifyAndNamedByStatus() throws Exception {
        BackupInfo older = pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        BackupInfo newer = pg.backups().backup(BackupOptions.defaults());
        Files.writeString(Path.of(newer.location()).resolve("pgbackup_manifest.json"), "{\"id\": \"" + newer.id() + "\", \"files\": [");

        assertThat(pg.backups().list()).extracting(BackupInfo::id).containsExactly(older.id());
        assertThat(pg.backups().latest()).hasValueSatisfying(b -> assertThat(b.id()).isEqualTo(older.id()));
        assertThat(pg.backups().scan().unreadable()).singleElement().satisfies(u -> {
            assertThat(u.id()).isEqualTo(newer.id());
            assertThat(u.reason()).contains("pgbackup_manifest.json is not a readable pgbackup manifest");
        });

        BackupVerdict verdict = pg.verifier().verify(VerifyRequest.of(newer.id())).backups().get(0);
        assertThat(verdict.ok()).isFalse();
        assertThat(check(verdict, "pgbackup_manifest.json").detail()).contains("not a readable pgbackup manifest");

        StatusReport report = pg.status().report();
        assertThat(report.verdict()).isNotEqualTo(StatusReport.Verdict.OK);
        assertThat(report.backups().count()).isEqualTo(1);
        assertThat(report.backups().unreadable()).extracting(io.pgbackup.core.backup.BackupScan.UnreadableBackup::id)
                .containsExactly(newer.id());
        assertThat(report.reasons()).anyMatch(r -> r.startsWith("backup " + newer.id() + " cannot be used: ")
                && r.contains("'pgbackup verify " + newer.id() + "'"));
    }

    @Test
    void anUnknownIdIsAUsageErrorListingTheIdsThatExist() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        assertThatThrownBy(() -> pg.verifier().verify(VerifyRequest.of("20000101_000000")))
                .isInstanceOf(PgBackupException.class)
                .hasMessageContaining("no backup '20000101_000000'").hasMessageContaining(backup.id())
                .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
    }

    @Test
    void restoreTestPassesOnAGoodBackupAndStatusShowsItProven() throws Exception {
        BackupInfo backup = backupWithLaterWal(new java.util.ArrayList<>());
        Path scratch = Files.createDirectories(work.resolve("scratch"));

        BackupVerdict verdict = pg.verifier().verify(VerifyRequest.newest().withRestoreTest(true).withRestoreTestDir(scratch))
                .backups().get(0);

        assertThat(verdict.ok()).as(verdict.toString()).isTrue();
        VerifyCheck test = verdict.restoreTest().orElseThrow();
        assertThat(test.detail()).contains("recovered and promoted").contains("relations answer").contains("pg_amcheck");
        assertThat(test.duration()).isPositive();
        try (Stream<Path> left = Files.list(scratch)) {
            assertThat(left).as("the copy is removed").isEmpty();
        }
        // The restored copy archived nothing into the repository: no new timeline appeared.
        assertThat(source.repository().resolve("wal_archive/00000002.history.gz")).doesNotExist();

        VerificationRecord record = new VerificationRecords(new io.pgbackup.core.internal.storage.Repository(Path.of(backup.location()).getParent().getParent())).read(backup.id()).orElseThrow();
        assertThat(record.provenAt()).isPresent();
        // A later verify without a restore test keeps the proof.
        pg.verifier().verify(VerifyRequest.newest());
        assertThat(new VerificationRecords(new io.pgbackup.core.internal.storage.Repository(Path.of(backup.location()).getParent().getParent())).read(backup.id()).orElseThrow().provenAt()).isPresent();

        StatusReport.BackupVerification v = pg.status().report().backups().newestVerification().orElseThrow();
        assertThat(v.backupId()).isEqualTo(backup.id());
        assertThat(v.provenAt()).isNotNull();
        assertThat(v.lastRestoreTestOk()).isTrue();
    }

    @Test
    void restoreTestFailsOnACorruptedBackup() throws Exception {
        BackupInfo backup = backupWithLaterWal(new java.util.ArrayList<>());
        // Consistent with pgbackup's own manifest, so the restore goes ahead and PostgreSQL itself refuses the copy.
        rewriteBaseTar(backup, "PG_VERSION", "14\n");
        Path scratch = Files.createDirectories(work.resolve("scratch"));

        BackupVerdict verdict = pg.verifier().verify(VerifyRequest.of(backup.id()).withRestoreTest(true)
                .withRestoreTestDir(scratch)).backups().get(0);

        VerifyCheck test = verdict.restoreTest().orElseThrow();
        assertThat(test.ok()).isFalse();
        assertThat(test.detail()).contains("did not start").contains("version 14").doesNotContain("\n");
        try (Stream<Path> left = Files.list(scratch)) {
            assertThat(left).as("the copy is removed even on failure").isEmpty();
        }
        assertThat(new VerificationRecords(new io.pgbackup.core.internal.storage.Repository(Path.of(backup.location()).getParent().getParent())).read(backup.id()).orElseThrow().lastRestoreTest().ok()).isFalse();
        assertThat(pg.status().report().reasons()).anyMatch(r -> r.contains("restore test of newest backup"));

        // A flipped byte: the restore refuses before extracting, naming the file.
        Path base = Path.of(backup.location()).resolve("base.tar.gz");
        flipByte(base, Files.size(base) / 2);
        VerifyCheck flipped = pg.verifier().verify(VerifyRequest.of(backup.id()).withRestoreTest(true)
                .withRestoreTestDir(scratch)).backups().get(0).restoreTest().orElseThrow();
        assertThat(flipped.ok()).isFalse();
        assertThat(flipped.detail()).contains("base.tar.gz");
    }

    @Test
    void followsTheHistoryFileToTheNewTimeline() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        source.cluster().execute("INSERT INTO orders VALUES (90001, 'timeline 1')");
        source.switchAndAwaitArchived();
        source.cluster().stop();

        // Restore to the end of the archive and promote: timeline 2, archiving into the same repository.
        try (PgCluster promoted = source.restoreAsNewTimeline(backup.id(), work.resolve("first"), work.resolve("run-first"))) {
            List<String> onTwo = new java.util.ArrayList<>();
            for (int i = 0; i < 2; i++) {
                promoted.execute("INSERT INTO orders VALUES (" + (90002 + i) + ", 'timeline 2')");
                onTwo.add(promoted.switchAndAwaitArchived());
            }
            assertThat(onTwo).as(() -> "server log:\n" + promoted.log()).allMatch(s -> s.startsWith("00000002"));
            // The promoted copy is now the cluster (as after a real recovery): verify follows the timeline it is on.
            PgBackup pg = PgBackup.create(promoted.config(source.repository()));

            VerifyCheck wal = check(pg.verifier().verify(VerifyRequest.of(backup.id())).backups().get(0), "wal archive");
            assertThat(wal.ok()).as(wal.detail()).isTrue();
            assertThat(wal.detail()).contains("timelines 1→2").contains(onTwo.get(1));

            // The newest segment missing would look like the archive ending there; one before it is a gap.
            Files.delete(walFile(onTwo.get(0)));
            VerifyCheck gap = check(pg.verifier().verify(VerifyRequest.of(backup.id())).backups().get(0), "wal archive");
            assertThat(gap.ok()).isFalse();
            assertThat(gap.detail()).startsWith(onTwo.get(0) + " is missing");
        }
    }

    private static VerifyCheck check(BackupVerdict verdict, String name) {
        return verdict.checks().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + name + " in " + verdict));
    }

    static void flipByte(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0xFF);
        }
    }

    /**
     * Rewrites base.tar.gz with one file's content replaced (same length), and fixes size and
     * SHA-256 in pgbackup_manifest.json, so that only PostgreSQL's backup_manifest knows.
     */
    static void rewriteBaseTar(BackupInfo backup, String path, String content) throws IOException {
        Path base = Path.of(backup.location()).resolve("base.tar.gz");
        Path rewritten = Path.of(backup.location()).resolve("base.tar.gz.new");
        try (InputStream in = Compression.GZIP.decompress(Files.newInputStream(base));
             TarArchiveInputStream tarIn = new TarArchiveInputStream(in);
             OutputStream out = Compression.GZIP.compress(Files.newOutputStream(rewritten));
             TarArchiveOutputStream tarOut = new TarArchiveOutputStream(out)) {
            tarOut.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tarOut.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            TarArchiveEntry entry;
            while ((entry = tarIn.getNextEntry()) != null) {
                tarOut.putArchiveEntry(entry);
                if (entry.isFile()) {
                    byte[] bytes = tarIn.readAllBytes();
                    if (entry.getName().equals(path)) {
                        bytes = content.getBytes(StandardCharsets.UTF_8);
                        assertThat(bytes.length).isEqualTo(entry.getSize());
                    }
                    tarOut.write(bytes);
                }
                tarOut.closeArchiveEntry();
            }
        }
        Files.move(rewritten, base, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ObjectMapper mapper = new ObjectMapper();
        Path manifest = Path.of(backup.location()).resolve("pgbackup_manifest.json");
        ObjectNode root = (ObjectNode) mapper.readTree(manifest.toFile());
        for (var file : root.withArray("files")) {
            if (file.path("name").asText().equals("base.tar.gz")) {
                ((ObjectNode) file).put("size", Files.size(base));
                ((ObjectNode) file).put("sha256", sha256(base));
            }
        }
        mapper.writerWithDefaultPrettyPrinter().writeValue(manifest.toFile(), root);
    }

    private static String sha256(Path file) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buffer = new byte[65536];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    sha.update(buffer, 0, n);
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
