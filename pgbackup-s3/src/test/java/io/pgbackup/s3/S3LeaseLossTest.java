package io.pgbackup.s3;

import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.storage.Storage.StoredObject;
import io.pgbackup.core.storage.Storage.ObjectWriter;
import io.pgbackup.core.storage.Storage.Lease;
import io.pgbackup.core.storage.Storage.WriteMode;
import io.pgbackup.s3.testing.BucketBackups;
import io.pgbackup.s3.testing.S3Server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 16, item 8: a holder whose lease was taken over (it stalled past the expiry, another
 * process took it) deletes and overwrites nothing more; each destructive call stops with one line.
 */
class S3LeaseLossTest {
    @TempDir
    Path dir;

    private S3Server server;
    private S3Storage holder;
    private S3Storage other;

    @BeforeEach
    void start() throws Exception {
        server = S3Server.start(dir);
        holder = server.storage("repo");
        other = server.storage("repo");
    }

    @AfterEach
    void stop() throws Exception {
        holder.close();
        other.close();
        server.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** What another process leaves after taking over the expired lease. */
    private void takeOver() throws Exception {
        other.write(S3Storage.LEASE_KEY, bytes("{\"holder\":\"backup, pid 2\",\"owner\":\"theirs\",\"expiresAt\":\""
                + Instant.now().plusSeconds(600) + "\",\"ttlSeconds\":600}"), WriteMode.REPLACE);
    }

    @Test
    void aHolderThatLostItsLeaseDeletesAndOverwritesNothing() throws Exception {
        List<String> keys = List.of("wal_archive/000000010000000000000001.gz", "wal_archive/000000010000000000000002.gz",
                "base/20260101_000000/pgbackup_manifest.json");
        for (String key : keys) {
            other.write(key, bytes(key), WriteMode.CREATE_NEW);
        }
        try (Storage.Lease lease = holder.acquireLease("cleanup, pid 1")) {
            // While it is held, the holder deletes as before.
            other.write("wal_archive/000000010000000000000000.gz", bytes("old"), WriteMode.CREATE_NEW);
            holder.deleteAll(List.of("wal_archive/000000010000000000000000.gz"));
            assertThat(other.stat("wal_archive/000000010000000000000000.gz")).isEmpty();

            takeOver();

            String line = "lost the lease on s3://pgbackup-test/repo (now held by backup, pid 2): stopped before changing"
                    + " anything more there";
            assertThatThrownBy(() -> holder.deleteAll(keys)).isInstanceOf(Storage.LeaseLostException.class).hasMessage(line);
            assertThatThrownBy(() -> holder.delete(keys.get(0))).isInstanceOf(Storage.LeaseLostException.class).hasMessage(line);
            assertThatThrownBy(() -> holder.write(keys.get(2), bytes("replaced"), WriteMode.REPLACE))
                    .isInstanceOf(Storage.LeaseLostException.class).hasMessage(line);
            assertThatThrownBy(lease::check).isInstanceOf(Storage.LeaseLostException.class).hasMessage(line);
            for (String key : keys) {
                assertThat(other.read(key)).as(key).isEqualTo(bytes(key));
            }
        }
        // Released: the new holder's lease stays, and this storage, holding none, writes again (as sync does).
        assertThat(new String(other.read(S3Storage.LEASE_KEY), StandardCharsets.UTF_8)).contains("\"owner\":\"theirs\"");
        holder.write(keys.get(2), bytes("replaced"), WriteMode.REPLACE);
    }

    @Test
    void aCleanupWhoseLeaseIsTakenOverStopsWithOneLineAndDeletesNothing() throws Exception {
        // An old backup and its WAL, which a cleanup keeping nothing deletes.
        String id = "20260101_000000";
        BucketBackups.store(other, BucketBackups.manifest(id, java.time.OffsetDateTime.now().minusDays(30))
                .files(List.of(new io.pgbackup.core.backup.BackupManifest.BackupFile("base.tar.gz", 1, "00"))).build(),
                bytes("x"), bytes("x"));
        other.write("wal_archive/000000010000000000000001.gz", bytes("x"), WriteMode.CREATE_NEW);
        List<String> before = other.list("").stream().map(Storage.StoredObject::key).filter(k -> !k.contains(".pgbackup.lease")).toList();
        // The cleanup's storage: right after the lease is granted, the holder stalls and another process takes over.
        Storage stalling = new Storage() {
            public String location() { return holder.location(); }
            public List<StoredObject> list(String prefix) throws java.io.IOException { return holder.list(prefix); }
            public java.util.Optional<StoredObject> stat(String key) throws java.io.IOException { return holder.stat(key); }
            public java.io.InputStream open(String key) throws java.io.IOException { return holder.open(key); }
            public ObjectWriter create(String key, WriteMode mode) throws java.io.IOException { return holder.create(key, mode); }
            public boolean delete(String key) throws java.io.IOException { return holder.delete(key); }
            public Lease acquireLease(String who) throws java.io.IOException {
                Lease lease = holder.acquireLease(who);
                try {
                    takeOver();
                } catch (Exception e) {
                    throw new java.io.IOException(e);
                }
                return lease;
            }
        };
        io.pgbackup.core.config.PgBackupConfig config = io.pgbackup.core.config.PgBackupConfig.builder()
                .backupDir(dir.resolve("local")).retainCount(0).retainDays(0).retainWalDays(0).build();
        io.pgbackup.core.PgBackup pg = io.pgbackup.core.PgBackup.builder(config).storage(stalling).build();
        io.pgbackup.core.retention.RetentionPolicy.RetentionPlan plan = pg.retentionPolicy().plan();
        assertThat(plan.delete()).hasSize(1);

        assertThatThrownBy(() -> pg.retentionPolicy().execute(plan)).isInstanceOfSatisfying(io.pgbackup.core.PgBackupException.class,
                e -> assertThat(e.code()).isEqualTo(io.pgbackup.core.ErrorCode.LOCKED))
                .hasMessage("cleanup stopped: lost the lease on s3://pgbackup-test/repo (now held by backup, pid 2): stopped before"
                        + " changing anything more there; run cleanup again once the other command is done");
        assertThat(other.list("").stream().map(Storage.StoredObject::key).filter(k -> !k.contains(".pgbackup.lease")).toList())
                .isEqualTo(before);
    }

    @Test
    void aDeletedLeaseIsLostToo() throws Exception {
        other.write("wal_archive/000000010000000000000001.gz", bytes("x"), WriteMode.CREATE_NEW);
        try (Storage.Lease ignored = holder.acquireLease("cleanup, pid 1")) {
            server.blobStore().removeBlob(S3Server.BUCKET, "repo/" + S3Storage.LEASE_KEY);

            assertThatThrownBy(() -> holder.deleteAll(List.of("wal_archive/000000010000000000000001.gz")))
                    .isInstanceOf(Storage.LeaseLostException.class)
                    .hasMessage("lost the lease on s3://pgbackup-test/repo (now held by nobody): stopped before changing anything"
                            + " more there");
            assertThat(other.stat("wal_archive/000000010000000000000001.gz")).isPresent();
        }
    }
}
