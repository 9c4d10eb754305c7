package io.pgbackup.s3;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestorePlan;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.s3.testing.BucketBackups;
import io.pgbackup.s3.testing.S3Server;
import org.jclouds.blobstore.BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How many ListObjects requests each reading command sends to a bucket holding a few thousand
 * archived segments, counted by the real in-process S3 server (s3proxy over HTTP, 1,000 keys a
 * page): status, list, cleanup --dry-run and verify page through the WAL archive at most once;
 * restore's plan lists only the logs ({@code wal_archive/TTTTTTTTLLLLLLLL}) from the backup on, along
 * the timeline path, and finds history files by name.
 *
 * <p>The archive: timeline 1, segments 0..2999 (logs 0 to 0xB); timeline 2 branched at segment 2900
 * (log 0xB) and holds 2900..3199 (logs 0xB and 0xC). The backup starts at 2600 (log 0xA) on timeline 1.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3ListingRequestsTest {
    private static final long SEG = 16L * 1024 * 1024;
    private static final int TL1_SEGMENTS = 3000;
    private static final int SWITCH = 2900;
    private static final int TL2_END = 3200;
    private static final int START = 2600;
    private static final String WAL = "repo/wal_archive/";
    private static final String ID = "20260101_000000";

    private Path work;
    private S3Server server;
    private S3Storage bucket;
    private int walKeys;

    @BeforeAll
    void plant(@TempDir Path dir) throws Exception {
        work = dir;
        server = S3Server.start(Files.createDirectories(work.resolve("s3")));
        bucket = server.storage("repo");
        BlobStore store = server.blobStore();
        // Tiny objects straight into the server's backend: the listing is what is measured, not the upload.
        for (int i = 0; i < TL1_SEGMENTS; i++) {
            put(store, WAL + name(1, i) + ".gz", new byte[] {1});
        }
        for (int i = SWITCH; i < TL2_END; i++) {
            put(store, WAL + name(2, i) + ".gz", new byte[] {1});
        }
        put(store, WAL + "00000002.history", ("1\t" + lsn(SWITCH * SEG) + "\tno recovery target specified\n").getBytes(StandardCharsets.UTF_8));
        walKeys = TL1_SEGMENTS + (TL2_END - SWITCH) + 1;
        writeBackup(bucket);
    }

    /** The backup every plan here starts from: on timeline 1, from segment START (log 0xA). */
    private static void writeBackup(S3Storage bucket) throws Exception {
        byte[] base = "not really a tar".getBytes(StandardCharsets.UTF_8);
        byte[] walTar = "nor this".getBytes(StandardCharsets.UTF_8);
        BackupManifest m = BucketBackups.manifest(ID, OffsetDateTime.now().minusHours(1))
                .startLsn(lsn(START * SEG + 0x28))
                .stopLsn(lsn((START + 1) * SEG + 0x100))
                .startWalFile(name(1, START))
                .stopWalFile(name(1, START + 1))
                .files(List.of(BucketBackups.file("base.tar.gz", base), BucketBackups.file("pg_wal.tar.gz", walTar)))
                .build();
        BucketBackups.store(bucket, m, base, walTar);
    }

    @AfterAll
    void stop() throws Exception {
        bucket.close();
        server.close();
    }

    @Test
    void statusListCleanupAndVerifyPageThroughTheWalArchiveAtMostOnce() {
        PgBackup pg = pgBackup();
        int onePass = (walKeys + 999) / 1000;
        assertAtMostOnePass("status", () -> pg.status().report(), onePass);
        assertAtMostOnePass("list", () -> pg.backups().list(), 0);
        assertAtMostOnePass("cleanup --dry-run", () -> pg.retentionPolicy().plan(), onePass);
        assertAtMostOnePass("verify", () -> pg.verifier().verify(io.pgbackup.core.verify.VerifyRequest.newest(), v -> { }), onePass);
    }

    @Test
    void restorePlanListsOnlyTheLogsFromTheBackupOnAlongTheTimelinePath() {
        PgBackup pg = pgBackup();
        server.clearRequests();
        RestorePlan plan = pg.restorePlanner().plan(request(new RecoveryTarget.EndOfWal()));
        assertThat(walListPrefixes()).containsExactly(
                WAL + "000000010000000A", WAL + "000000010000000B", WAL + "000000020000000B",
                WAL + "000000020000000C", WAL + "000000020000000D", // 0xD: empty
                WAL + "000000020000000E"); // 0xE: empty too, so the archive's end (one empty log could be a lost one)
        // History files by name (HEAD), never by listing: 00000002.history found, 00000003.history missing.
        assertThat(server.requests()).filteredOn(r -> r.operation().equals("blobMetadata"))
                .extracting(S3Server.Request::name).anyMatch(n -> n.equals(WAL + "00000002.history"))
                .anyMatch(n -> n.startsWith(WAL + "00000003.history"));
        assertThat(plan.wal()).hasSize(TL2_END - (START + 2));
        assertThat(plan.wal()).allMatch(RestorePlan.WalNeed::present);
        assertThat(plan.wal().get(0).segment()).isEqualTo(name(1, START + 2));
        assertThat(plan.wal().get(SWITCH - 1 - (START + 2)).segment()).isEqualTo(name(1, SWITCH - 1));
        assertThat(plan.wal().get(SWITCH - (START + 2)).segment()).isEqualTo(name(2, SWITCH));
        assertThat(plan.wal().get(plan.wal().size() - 1).segment()).isEqualTo(name(2, TL2_END - 1));
    }

    @Test
    void restoreToAnLsnListsOnlyTheLogsUpToIt() {
        PgBackup pg = pgBackup();
        server.clearRequests();
        RestorePlan plan = pg.restorePlanner().plan(request(new RecoveryTarget.Lsn(2700 * SEG + 0x10)));
        assertThat(walListPrefixes()).containsExactly(WAL + "000000010000000A");
        assertThat(plan.wal().get(plan.wal().size() - 1).segment()).isEqualTo(name(1, 2700));
    }

    @Test
    void aWholeMissingLogIsAGapNotTheArchivesEnd() throws Exception {
        // Under its own prefix: logs 0xA (from the backup on) and 0xC, none of 0xB (4 GiB of WAL lost).
        BlobStore store = server.blobStore();
        for (int i = START; i < 0xB00; i++) {
            put(store, "gap/wal_archive/" + name(1, i) + ".gz", new byte[] {1});
        }
        for (int i = 0xC00; i < 0xC10; i++) {
            put(store, "gap/wal_archive/" + name(1, i) + ".gz", new byte[] {1});
        }
        try (S3Storage gapBucket = server.storage("gap")) {
            writeBackup(gapBucket);
            PgBackupConfig config = PgBackupConfig.builder().host("127.0.0.1").port(1).user("nobody").database("postgres")
                    .backupDir(work.resolve("empty-local-gap")).build();
            PgBackup pg = PgBackup.builder(config).bucket(gapBucket).repositorySource(PgBackup.RepositorySource.S3).build();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> pg.restorePlanner().plan(request(new RecoveryTarget.EndOfWal())))
                    .hasMessageContaining("the WAL archive has a gap: " + name(1, 0xB00) + " is missing");
        }
    }

    private RestoreRequest request(RecoveryTarget target) {
        return new RestoreRequest(Optional.empty(), target, TargetAction.PROMOTE, Optional.of(work.resolve("restored")), false);
    }

    private void assertAtMostOnePass(String command, Supplier<?> run, int pages) {
        server.clearRequests();
        run.get();
        // Pages that walk the WAL archive: the archive's prefix, or a shorter one covering it (the whole repository).
        List<String> walking = server.listRequests().stream().map(S3Server.Request::name).filter(WAL::startsWith).toList();
        assertThat(walking).as(command + " pages through the WAL archive at most once (" + pages + " pages)").hasSizeLessThanOrEqualTo(pages);
        assertThat(walking).as(command).allMatch(WAL::equals);
    }

    /** The listings under the WAL archive. */
    private List<String> walListPrefixes() {
        return server.listRequests().stream().map(S3Server.Request::name).filter(n -> n.startsWith(WAL)).toList();
    }

    private PgBackup pgBackup() {
        PgBackupConfig config = PgBackupConfig.builder().host("127.0.0.1").port(1).user("nobody").database("postgres")
                .backupDir(work.resolve("empty-local")).build();
        return PgBackup.builder(config).bucket(bucket).repositorySource(PgBackup.RepositorySource.S3).build();
    }

    private static void put(BlobStore store, String key, byte[] content) {
        store.putBlob(S3Server.BUCKET, store.blobBuilder(key).payload(content).build());
    }

    private static String name(int timeline, long segno) {
        return String.format("%08X%08X%08X", timeline, segno / 256, segno % 256);
    }

    private static String lsn(long lsn) {
        return String.format("%X/%X", lsn >>> 32, lsn & 0xFFFFFFFFL);
    }

}
