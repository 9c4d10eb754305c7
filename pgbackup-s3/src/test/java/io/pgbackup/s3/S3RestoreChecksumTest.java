package io.pgbackup.s3;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestorePlan;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.s3.testing.BucketBackups;
import io.pgbackup.s3.testing.S3Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Restore from a bucket downloads each backup file once: the plan checks sizes, the SHA-256 is
 * checked while the file is extracted, and a mismatch fails the restore before recovery.signal
 * is written (the real in-process S3 server, over HTTP).
 */
class S3RestoreChecksumTest {
    private static final String ID = "20260101_000000";
    private static final long SEG = 16L * 1024 * 1024;

    @TempDir
    Path work;

    @Test
    void aFileWhoseShaDiffersFailsTheRestoreWithoutRecoverySignal() throws Exception {
        try (S3Server server = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = server.storage("repo")) {
            byte[] base = BucketBackups.tarGz("PG_VERSION", "15\n");
            byte[] walTar = BucketBackups.tarGz("archive_status/.keep", "");
            // base.tar.gz's recorded SHA-256 is of other bytes of the same size: damage the size check cannot see.
            byte[] other = base.clone();
            other[other.length / 2] ^= 1;
            BucketBackups.store(bucket, BucketBackups.manifest(ID, OffsetDateTime.now().minusHours(1)).files(List.of(BucketBackups.file("base.tar.gz", other), BucketBackups.file("pg_wal.tar.gz", walTar))).build(), base, walTar);
            PgBackup pg = pgBackup(bucket);
            Path target = work.resolve("restored");
            RestorePlan plan = pg.restorePlanner().plan(new RestoreRequest(Optional.of(ID), new RecoveryTarget.Immediate(),
                    TargetAction.PROMOTE, Optional.of(target), false));
            server.clearRequests();

            assertThatThrownBy(() -> pg.restorePlanner().execute(plan)).isInstanceOf(PgBackupException.class)
                    .hasMessageContaining("base.tar.gz").hasMessageContaining("SHA-256")
                    .hasMessageContaining("without recovery.signal");
            assertThat(target.resolve("recovery.signal")).doesNotExist();
            // At most one download of each file (the plan read none of them); pg_wal.tar.gz, extracted on
            // another thread, may be cancelled before its download when base.tar.gz fails first.
            assertThat(server.requests()).filteredOn(r -> r.operation().equals("getBlob"))
                    .extracting(S3Server.Request::name).filteredOn(n -> n.endsWith(".tar.gz"))
                    .doesNotHaveDuplicates().contains("repo/base/" + ID + "/base.tar.gz")
                    .isSubsetOf("repo/base/" + ID + "/base.tar.gz", "repo/base/" + ID + "/pg_wal.tar.gz");
        }
    }

    @Test
    void intactFilesRestoreWithRecoverySignal() throws Exception {
        try (S3Server server = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = server.storage("repo")) {
            byte[] base = BucketBackups.tarGz("PG_VERSION", "15\n");
            byte[] walTar = BucketBackups.tarGz("archive_status/.keep", "");
            BucketBackups.store(bucket, BucketBackups.manifest(ID, OffsetDateTime.now().minusHours(1)).files(List.of(BucketBackups.file("base.tar.gz", base), BucketBackups.file("pg_wal.tar.gz", walTar))).build(), base, walTar);
            PgBackup pg = pgBackup(bucket);
            Path target = work.resolve("restored");
            pg.restorePlanner().execute(pg.restorePlanner().plan(new RestoreRequest(Optional.of(ID), new RecoveryTarget.Immediate(),
                    TargetAction.PROMOTE, Optional.of(target), false)));
            assertThat(target.resolve("recovery.signal")).exists();
            assertThat(target.resolve("PG_VERSION")).hasContent("15");
        }
    }

    private PgBackup pgBackup(S3Storage bucket) {
        PgBackupConfig config = PgBackupConfig.builder().host("127.0.0.1").port(1).user("nobody").database("postgres")
                .backupDir(work.resolve("local")).build();
        return PgBackup.builder(config).bucket(bucket).repositorySource(PgBackup.RepositorySource.S3).build();
    }

}
