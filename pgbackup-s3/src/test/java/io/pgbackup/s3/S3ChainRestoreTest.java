package io.pgbackup.s3;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.incremental.IncrementalFormat;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.s3.testing.BucketBackups;
import io.pgbackup.s3.testing.S3Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 18: a chain (full, then an incr holding changed blocks) restores from the bucket alone, with
 * no local repository and no staging copy: each stored tar downloaded once, streamed, the relation
 * file reassembled block by block from the newest backup holding each block, and a file the newest
 * backup no longer holds removed. Crafted backups on the real in-process S3 server: no cluster.
 */
class S3ChainRestoreTest {
    private static final String FULL = "20260101_000000";
    private static final String INCR = "20260101_010000";
    private static final int BLOCK = IncrementalFormat.BLOCK_SIZE;

    @TempDir
    Path work;

    @Test
    void aChainRestoresFromTheBucketAloneEachTarDownloadedOnce() throws Exception {
        try (S3Server server = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = server.storage("repo")) {
            OffsetDateTime now = OffsetDateTime.now();
            // The full: a relation of 3 blocks (A, B, C) and a table dropped before the incr.
            byte[] fullBase = BucketBackups.tarGz(Map.of("PG_VERSION", "15\n".getBytes(), "base/1/16384", blocks('A', 'B', 'C'),
                    "base/1/16390", blocks('Z')));
            byte[] walTar = BucketBackups.tarGz("archive_status/.keep", "");
            BackupManifest full = BucketBackups.manifest(FULL, now.minusHours(2)).type("full")
                    .files(List.of(BucketBackups.file("base.tar.gz", fullBase), BucketBackups.file("pg_wal.tar.gz", walTar))).build();
            BucketBackups.store(bucket, full, fullBase, walTar);
            // The incr: block 1 changed, block 3 appended (truncation length 3: blocks 0 and 2 come from the full).
            ByteArrayOutputStream inc = new ByteArrayOutputStream();
            IncrementalFormat.writeHeader(inc, new int[] {1, 3}, 2, 3);
            inc.write(blocks('X', 'Y'));
            byte[] incrBase = BucketBackups.tarGz(Map.of("PG_VERSION", "15\n".getBytes(), "base/1/INCREMENTAL.16384", inc.toByteArray()));
            BackupManifest incr = BucketBackups.manifest(INCR, now.minusHours(1)).type("incr").parent(FULL).chain(List.of(FULL))
                    .parentStartLsn(full.startLsn()).startLsn("0/4000028").stopLsn("0/4000100")
                    .startWalFile("000000010000000000000004").stopWalFile("000000010000000000000004")
                    .files(List.of(BucketBackups.file("base.tar.gz", incrBase), BucketBackups.file("pg_wal.tar.gz", walTar))).build();
            BucketBackups.store(bucket, incr, incrBase, walTar);

            PgBackup pg = pgBackup(bucket);
            Path target = work.resolve("restored");
            var plan = pg.restorePlanner().plan(new RestoreRequest(Optional.of(INCR), new RecoveryTarget.Immediate(),
                    TargetAction.PROMOTE, Optional.of(target), false));
            server.clearRequests();
            pg.restorePlanner().execute(plan);

            assertThat(target.resolve("base/1/16384")).hasBinaryContent(blocks('A', 'X', 'C', 'Y'));
            assertThat(target.resolve("base/1/16390")).doesNotExist();
            assertThat(target.resolve("recovery.signal")).exists();
            assertThat(Files.readString(target.resolve("backup_manifest"))).contains("\"Path\": \"base/1/16384\"")
                    .contains("\"Size\": " + 4 * BLOCK);
            assertThat(work.resolve("local")).satisfiesAnyOf(p -> assertThat(p).doesNotExist(),
                    p -> assertThat(Files.walk(p).filter(f -> f.toString().endsWith(".tar.gz"))).isEmpty());
            // Both members' base.tar.gz downloaded, each once (pg_wal.tar.gz: the newest's only).
            assertThat(server.requests()).filteredOn(r -> r.operation().equals("getBlob"))
                    .extracting(S3Server.Request::name).filteredOn(n -> n.endsWith(".tar.gz"))
                    .doesNotHaveDuplicates()
                    .contains("repo/base/" + FULL + "/base.tar.gz", "repo/base/" + INCR + "/base.tar.gz")
                    .doesNotContain("repo/base/" + FULL + "/pg_wal.tar.gz");
        }
    }

    /** Whole blocks, each filled with one letter. */
    private static byte[] blocks(char... fill) {
        byte[] out = new byte[fill.length * BLOCK];
        for (int i = 0; i < fill.length; i++) {
            Arrays.fill(out, i * BLOCK, (i + 1) * BLOCK, (byte) fill[i]);
        }
        return out;
    }


    private PgBackup pgBackup(S3Storage bucket) {
        PgBackupConfig config = PgBackupConfig.builder().host("127.0.0.1").port(1).user("nobody").database("postgres")
                .backupDir(work.resolve("local")).build();
        return PgBackup.builder(config).bucket(bucket).repositorySource(PgBackup.RepositorySource.S3).build();
    }
}
