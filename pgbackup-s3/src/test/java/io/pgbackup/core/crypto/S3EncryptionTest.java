package io.pgbackup.core.crypto;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.internal.crypto.KeyGenerator;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.testing.ArchiverMain;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.MarkerScan;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.s3.S3Storage;
import io.pgbackup.s3.testing.S3Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;

/** Encryption with the bucket as the archive (PG_BACKUP_ARCHIVER_REPO=s3): every object in it is sealed, and it restores. */
class S3EncryptionTest {
    private static final String MARKER = "MARKER-5e3a1-bucket";

    @TempDir
    Path work;

    @Test
    void s3OnlyArchivingAndBackupStoreOnlyCiphertextAndRestoreWithTheKey() throws Exception {
        long started = System.nanoTime();
        Path key = KeyGenerator.generate(work.resolve("pgbackup.key"), Optional.empty()).keyFile();
        try (S3Server server = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = server.storage("repo")) {
            var keys = server.credentials().resolveCredentials();
            Map<String, String> credentials = Map.of("AWS_ACCESS_KEY_ID", keys.accessKeyId(),
                    "AWS_SECRET_ACCESS_KEY", keys.secretAccessKey(), "AWS_REGION", S3Server.REGION);
            try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withBucketOnly(true).withIdleExitSeconds(300),
                    c -> c.s3(server.settings("repo")).encryption(EncryptionConfig.keyFile(key)), ArchiverMain.launcher(),
                    b -> b.bucket(bucket), credentials)) {
                PgCluster pg = source.cluster();
                pg.execute("CREATE TABLE secrets AS SELECT g AS id, '" + MARKER + "' || g AS v FROM generate_series(1, 20000) g");
                PgBackup inBucket = PgBackup.builder(source.pgBackup().config()).storage(bucket).bucket(bucket)
                        .launcher(ArchiverMain.launcher()).build();
                BackupInfo backup = inBucket.backups().backup(BackupOptions.defaults());
                System.out.printf("elapsed %s: %d ms%n", "cluster+backup", (System.nanoTime() - started) / 1_000_000);
                pg.execute("INSERT INTO secrets SELECT g, '" + MARKER + "' || g FROM generate_series(20001, 25000) g");
                String expected = fingerprint(pg, "secrets");
                String last = source.switchAndAwaitArchived();
                System.out.printf("elapsed %s: %d ms%n", "switch archived", (System.nanoTime() - started) / 1_000_000);

                List<String> plainData = new ArrayList<>();
                for (Storage.StoredObject o : bucket.list("")) {
                    byte[] raw = bucket.read(o.key());
                    assertThat(MarkerScan.holds(raw, MARKER)).as(o.key()).isFalse();
                    boolean sealed = raw.length > 8 && (raw[0] & 0xff) == 0x89
                            && new String(raw, 1, 7, StandardCharsets.US_ASCII).equals("PGBSEAL");
                    if (!sealed && !o.key().contains("/keys/") && !o.key().endsWith("pgbackup_index.json")
                            && !o.key().endsWith("cluster.json") && !o.key().contains(".lease")) {
                        plainData.add(o.key());
                    }
                }
                assertThat(plainData).as("objects stored plain").isEmpty();
                System.out.printf("elapsed %s: %d ms%n", "bucket scan", (System.nanoTime() - started) / 1_000_000);
                assertThat(bucket.stat("wal_archive/" + last + ".gz")).isPresent();
                assertThat(new String(bucket.read("base/" + backup.id() + "/base.tar.gz"), 1, 7, StandardCharsets.US_ASCII))
                        .isEqualTo("PGBSEAL");

                Path dir = work.resolve("restored");
                inBucket.restorePlanner().execute(inBucket.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()),
                        new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.of(dir), false)));
                System.out.printf("elapsed %s: %d ms%n", "restore written", (System.nanoTime() - started) / 1_000_000);
                PgCluster copyStarted;
                try {
                    copyStarted = PgCluster.startExisting(dir, work.resolve("run-restored"), pg.password());
                } catch (java.io.IOException e) {
                    throw new AssertionError(Files.readString(work.resolve("run-restored/postgres.log")), e);
                }
                try (PgCluster copy = copyStarted) {
                    copy.awaitPromoted(Duration.ofMinutes(2));
                    assertThat(fingerprint(copy, "secrets")).isEqualTo(expected);
                }
            }
        }
        System.out.printf("elapsed %s: %d ms%n", "s3", (System.nanoTime() - started) / 1_000_000);
    }
}
