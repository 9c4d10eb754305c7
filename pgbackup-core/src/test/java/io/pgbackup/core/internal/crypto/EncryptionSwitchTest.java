package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.ArchiverConfig;
import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.archive.ArchiveSpool;
import io.pgbackup.core.internal.archive.ArchiverLiveness;
import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.testing.ArchiverMain;
import io.pgbackup.core.testing.RepositoryFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Turning encryption on is one step, {@code init} with a key: it stops the running archiver (a real
 * one, started without the key in a JVM of its own), takes the inventory of plain objects, then
 * renders the scripts; other writers never take it. And a key that opens none of the repository's
 * keysets (the old one after rotation) says so instead of "no backups". No cluster: init's server
 * check fails harmlessly, and the archiver watches a PGDATA that asks for nothing.
 */
class EncryptionSwitchTest {
    private static final String SEGMENT = "wal_archive/000000010000000000000001.gz";

    @TempDir
    Path work;

    private PgBackupConfig config(Path repo, EncryptionConfig encryption) {
        PgBackupConfig base = PgBackupConfig.builder().host("127.0.0.1").port(1).user("nobody").database("postgres")
                .backupDir(repo).build();
        return base.toBuilder().encryption(encryption).archiver(base.archiver().withMode(ArchiverConfig.Mode.ASYNC)).build();
    }

    /** A repository of before encryption: init without a key, then a plain archived segment. */
    private Path plainRepository(String name) throws Exception {
        Path repo = work.resolve(name);
        PgBackup.create(config(repo, EncryptionConfig.none())).archiveSetup().init();
        Files.write(repo.resolve(SEGMENT), "plain segment".getBytes());
        return repo;
    }

    @Test
    void initStopsTheArchiverTakesTheInventoryThenRendersAndWritersNeverTakeIt() throws Exception {
        long started = System.nanoTime();
        Path key = KeyGenerator.generate(work.resolve("k.json"), Optional.empty()).keyFile();
        Path repo = plainRepository("repo");

        // A real archiver without the key (as a script rendered before would start it), holding its locks.
        Path pgData = Files.createDirectories(work.resolve("pgdata"));
        Files.createDirectories(pgData.resolve("pg_wal/archive_status"));
        Files.createDirectories(pgData.resolve("global"));
        Files.write(pgData.resolve("global/pg_control"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        Files.writeString(pgData.resolve("postmaster.pid"), "1\n");
        Path spool = ArchiveSpool.pidFileOf(repo, pgData).getParent();
        List<String> command = new ArrayList<>(ArchiverMain.launcher());
        command.addAll(List.of("archiver", "--pgdata", pgData.toString(), "--spool", spool.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(work.resolve("archiver.out").toFile());
        pb.environment().put("PG_BACKUP_DIR", repo.toString());
        pb.environment().put("PG_BACKUP_ARCHIVER", "async");
        pb.environment().put(ArchiverConfig.PG_BACKUP_ARCHIVER_IDLE_EXIT, "3600");
        Process archiver = pb.start();
        try {
            Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
            while (!(Files.exists(spool.resolve("archiver.pid")) && ArchiverLiveness.probe(spool.resolve("archiver.flock"))
                    == ArchiverLiveness.Probe.HELD)) {
                assertThat(archiver.isAlive()).as(Files.readString(work.resolve("archiver.out"))).isTrue();
                assertThat(Instant.now()).as("archiver started").isBefore(deadline);
                archiver.waitFor(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            }

            // Writers other than init do not turn it on: a keyed backup is refused in one line naming init.
            PgBackup keyed = PgBackup.create(config(repo, EncryptionConfig.keyFile(key)));
            assertThatThrownBy(() -> keyed.backups().backup(BackupOptions.defaults())).isInstanceOf(PgBackupException.class)
                    .hasMessageContaining("backup refused").hasMessageContaining("'pgbackup init'").hasMessageNotContaining("\n");
            SealingStorage direct = Sealing.load(EncryptionConfig.keyFile(key), Clock.systemUTC()).seal(new LocalStorage(repo));
            assertThatThrownBy(() -> direct.write("wal_archive/000000010000000000000002.gz", "x".getBytes(), Storage.WriteMode.CREATE_NEW))
                    .isInstanceOf(SealedFormat.NotTurnedOnException.class).hasMessageContaining("'pgbackup init'");
            assertThat(repo.resolve(PlainInventory.KEY)).doesNotExist();
            assertThat(repo.resolve("wal_archive/000000010000000000000002.gz")).doesNotExist();

            // init with the key: the archiver is stopped, the inventory taken, the scripts seal.
            keyed.archiveSetup().init();
            assertThat(archiver.isAlive()).as("the archiver started without the key").isFalse();
            assertThat(Files.readAllBytes(repo.resolve(PlainInventory.KEY))).startsWith(SealedFormat.MAGIC);
            assertThat(Files.readString(repo.resolve("scripts/archive_wal.sh"))).contains("SEALED=1");
            // The plain segment of before stays readable with the key; now writers seal.
            assertThat(keyed.encryption().decrypt(SEGMENT, new java.io.ByteArrayOutputStream())).isPositive();
            direct.write("wal_archive/000000010000000000000002.gz", "x".getBytes(), Storage.WriteMode.CREATE_NEW);
            assertThat(Files.readAllBytes(repo.resolve("wal_archive/000000010000000000000002.gz"))).startsWith(SealedFormat.MAGIC);
            // Without the key nothing is stored any more (an archiver a script starts without it refuses).
            PgBackup keyless = PgBackup.create(config(repo, EncryptionConfig.none()));
            assertThatThrownBy(() -> keyless.archiver().run(pgData)).isInstanceOf(PgBackupException.class)
                    .hasMessageContaining("archiving refused").hasMessageContaining(PlainInventory.KEY);
        } finally {
            archiver.destroyForcibly().waitFor();
        }

        // A brand-new empty repository needs no init: the first sealed write takes its (empty) inventory.
        Path fresh = Files.createDirectories(work.resolve("fresh"));
        SealingStorage newRepo = Sealing.load(EncryptionConfig.keyFile(key), Clock.systemUTC()).seal(new LocalStorage(fresh));
        newRepo.write(SEGMENT, "y".getBytes(), Storage.WriteMode.CREATE_NEW);
        assertThat(newRepo.read(SEGMENT)).isEqualTo("y".getBytes());
        assertThat(fresh.resolve(PlainInventory.KEY)).exists();
        System.out.printf("elapsed %s: %d ms%n", "init turns it on", (System.nanoTime() - started) / 1_000_000);
    }

    @Test
    void theOldKeyAfterRotationNamesTheKeysInUseInsteadOfNoBackups() throws Exception {
        long started = System.nanoTime();
        KeyGenerator.Generated oldKey = KeyGenerator.generate(work.resolve("old.json"), Optional.empty());
        KeyGenerator.Generated newKey = KeyGenerator.generate(work.resolve("new.json"), Optional.empty());
        Path repo = work.resolve("repo");
        PgBackup.create(config(repo, EncryptionConfig.none())).archiveSetup().init();
        Repository plainRepo = new Repository(repo);
        OffsetDateTime end = OffsetDateTime.now().minusHours(2);
        String plainId = RepositoryFixtures.backup(plainRepo, "20260101_000000", end, 1,
                "000000010000000000000002", "000000010000000000000002", 100);
        PgBackup withOld = PgBackup.create(config(repo, EncryptionConfig.keyFile(oldKey.keyFile())));
        withOld.archiveSetup().init();
        // A sealed backup: a fixture's files written through the sealing storage.
        Path scratch = work.resolve("scratch");
        String sealedId = RepositoryFixtures.backup(new Repository(scratch), "20260102_000000", end.plusHours(1), 1,
                "000000010000000000000003", "000000010000000000000003", 100);
        SealingStorage sealing = Sealing.load(EncryptionConfig.keyFile(oldKey.keyFile()), Clock.systemUTC()).seal(new LocalStorage(repo));
        for (String file : List.of("base.tar.gz", Repository.MANIFEST_FILE)) {
            sealing.write("base/" + sealedId + "/" + file, Files.readAllBytes(scratch.resolve("base/" + sealedId + "/" + file)),
                    Storage.WriteMode.CREATE_NEW);
        }
        assertThat(withOld.backups().list()).extracting(BackupInfo::id).containsExactly(plainId, sealedId);

        withOld.encryption().rotateKey(newKey.keyFile(), false);
        PgBackup old = PgBackup.create(config(repo, EncryptionConfig.keyFile(oldKey.keyFile())));
        assertThatThrownBy(() -> old.backups().list()).isInstanceOf(PgBackupException.class)
                .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(io.pgbackup.core.ErrorCode.REFUSED))
                .hasMessageContaining("wrapped under key " + newKey.keyId())
                .hasMessageContaining("not under the configured key " + oldKey.keyId())
                .hasMessageContaining("current key").hasMessageNotContaining("no backups").hasMessageNotContaining("\n");
        assertThatThrownBy(() -> old.restorePlanner().plan(new io.pgbackup.core.restore.RestoreRequest(Optional.of(sealedId),
                new io.pgbackup.core.restore.RecoveryTarget.EndOfWal(), io.pgbackup.core.restore.RecoveryTarget.TargetAction.PROMOTE,
                Optional.of(work.resolve("target")), false)))
                .hasMessageContaining("not under the configured key " + oldKey.keyId()).hasMessageNotContaining("no backups");
        PgBackup current = PgBackup.create(config(repo, EncryptionConfig.keyFile(newKey.keyFile())));
        assertThat(current.backups().list()).extracting(BackupInfo::id).containsExactly(plainId, sealedId);
        System.out.printf("elapsed %s: %d ms%n", "old key after rotation", (System.nanoTime() - started) / 1_000_000);
    }
}
