package io.pgbackup.core.archive;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.internal.crypto.KeyGenerator;
import io.pgbackup.core.internal.crypto.SealingStorage;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.TargetAction;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.testing.ArchiverMain;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.s3.S3Storage;
import io.pgbackup.s3.testing.S3Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17, S3-only archiving with encryption: the async archiver stores into the bucket alone
 * (PG_BACKUP_ARCHIVER_REPO=s3) and a backup goes there too; every object holding data is sealed,
 * a marker from a table appears in no object (raw or gunzipped), and a restore from the bucket
 * alone with the key gives the same rows.
 */
class EncryptedS3ArchivingTest {
    private static final String MARKER = "s3-sealed-marker-7f3a";
    private static final byte[] MAGIC = {(byte) 0x89, 'P', 'G', 'B', 'S', 'E', 'A', 'L'};

    @TempDir
    Path work;

    @Test
    void bucketOnlyArchivingSealsEverythingAndRestoresFromTheBucketWithTheKey() throws Exception {
        Path key = work.resolve("repo.key");
        KeyGenerator.generate(key, Optional.empty());
        try (S3Server server = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = server.storage("repo")) {
            var keys = server.credentials().resolveCredentials();
            Map<String, String> credentials = Map.of("AWS_ACCESS_KEY_ID", keys.accessKeyId(),
                    "AWS_SECRET_ACCESS_KEY", keys.secretAccessKey(), "AWS_REGION", S3Server.REGION);
            String atBackup;
            String backupId;
            String password;
            io.pgbackup.core.config.PgBackupConfig config;
            try (ArchivingCluster source = ArchivingCluster.createAsync(work,
                    a -> a.withBucketOnly(true).withIdleExitSeconds(300),
                    c -> c.s3(server.settings("repo")).encryption(EncryptionConfig.keyFile(key)),
                    ArchiverMain.launcher(), b -> b.bucket(bucket), credentials)) {
                PgCluster pg = source.cluster();
                pg.execute("CREATE TABLE t (id int PRIMARY KEY, note text)",
                        "INSERT INTO t SELECT g, repeat('" + MARKER + " ', 20) FROM generate_series(1, 2000) g");
                source.switchAndAwaitArchived();
                BackupInfo backup = source.pgBackup().backups().backup(BackupOptions.defaults());
                backupId = backup.id();
                password = pg.password();
                config = source.pgBackup().config();
                atBackup = fingerprint(pg, "t");
                pg.execute("INSERT INTO t SELECT g, '" + MARKER + "' FROM generate_series(2001, 2100) g");
                source.switchAndAwaitArchived();
                source.stopArchiver();
            }

            int sealed = 0;
            SealingStorage withKey = io.pgbackup.core.internal.crypto.Sealing.load(EncryptionConfig.keyFile(key),
                    java.time.Clock.systemUTC()).seal(bucket);
            for (Storage.StoredObject o : bucket.list("")) {
                byte[] raw = bucket.read(o.key());
                assertThat(contains(raw, MARKER)).as(o.key()).isFalse();
                assertThat(contains(gunzip(raw), MARKER)).as(o.key() + " gunzipped").isFalse();
                if (SealingStorage.isAlwaysPlain(o.key()) || o.name().startsWith(".")) {
                    continue;
                }
                assertThat(Arrays.copyOf(raw, MAGIC.length)).as(o.key() + " is sealed").isEqualTo(MAGIC);
                sealed++;
                if (o.key().matches("wal_archive/[0-9A-F]{24}\\.gz")) {
                    // The archiver's segments open with the key to whole segments.
                    assertThat(gunzip(withKey.read(o.key()))).hasSize(16 * 1024 * 1024);
                }
            }
            assertThat(sealed).isGreaterThan(3);

            // A machine with only the bucket and the key: restore the backup; rows equal.
            PgBackup fromBucket = PgBackup.builder(config.toBuilder().backupDir(Files.createDirectories(work.resolve("fresh"))).build())
                    .storage(bucket).bucket(bucket).build();
            Path target = work.resolve("restored");
            fromBucket.restorePlanner().execute(fromBucket.restorePlanner().plan(new RestoreRequest(Optional.of(backupId),
                    new RecoveryTarget.Immediate(), TargetAction.PROMOTE, Optional.of(target), false)));
            try (PgCluster copy = PgCluster.startExisting(target, work.resolve("run-restored"), password)) {
                copy.awaitPromoted(Duration.ofMinutes(2));
                assertThat(fingerprint(copy, "t")).isEqualTo(atBackup);
            }
        }
    }

    private static boolean contains(byte[] haystack, String needle) {
        return new String(haystack, StandardCharsets.ISO_8859_1).contains(needle);
    }

    private static byte[] gunzip(byte[] raw) {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
