package io.pgbackup.core.archive;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.s3.S3Storage;
import io.pgbackup.core.testing.ArchiverMain;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.s3.testing.S3Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.pgbackup.core.archive.ArchiverFaultTest.LONG;
import static io.pgbackup.core.archive.ArchiverFaultTest.assertBackupVerifies;
import static io.pgbackup.core.archive.ArchiverFaultTest.assertNoGap;
import static io.pgbackup.core.archive.ArchiverFaultTest.awaitArchived;
import static io.pgbackup.core.archive.ArchiverFaultTest.completeSegments;
import static io.pgbackup.core.archive.ArchiverFaultTest.writeSegments;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ArchiverFaultTest}'s fault with the bucket as the archive (PG_BACKUP_ARCHIVER_REPO=s3):
 * here, where S3Storage is, in ArchiverFaultTest's package to share its checks (core's test-jar).
 */
class ArchiverS3FaultTest {
    @TempDir
    Path work;

    @Test
    void theBucketUnreachableLongerThanTheAckTimeoutLosesNothingInS3SpoolMode() throws Exception {
        try (S3Server server = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = server.storage("repo")) {
            var keys = server.credentials().resolveCredentials();
            Map<String, String> credentials = Map.of("AWS_ACCESS_KEY_ID", keys.accessKeyId(),
                    "AWS_SECRET_ACCESS_KEY", keys.secretAccessKey(), "AWS_REGION", S3Server.REGION);
            try (ArchivingCluster source = ArchivingCluster.createAsync(work,
                    a -> a.withBucketOnly(true).withWorkers(2).withIdleExitSeconds(300).withAckTimeoutSeconds(5),
                    c -> c.s3(server.settings("repo")), ArchiverMain.launcher(), b -> b.bucket(bucket), credentials)) {
                PgCluster pg = source.cluster();
                pg.execute("CREATE TABLE t (id int, pad text)");
                source.switchAndAwaitArchived();

                server.stop();
                Instant back = Instant.now().plus(Duration.ofSeconds(20));
                List<String> written = new ArrayList<>();
                while (Instant.now().isBefore(back)) {
                    written.addAll(writeSegments(pg, 1));
                    Thread.sleep(4_000);
                }
                PgCluster.await(LONG, "PostgreSQL to see archiving fail while the bucket is away",
                        () -> pg.queryLong("SELECT failed_count FROM pg_stat_archiver") > 0);
                assertThat(pg.queryString("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")).isLessThan(written.get(0));
                server.start();

                String last = pg.switchWal();
                awaitArchived(pg, last);
                assertNoGap(bucket, last).containsKeys(written.toArray(String[]::new));
                // A spool: acknowledged from the bucket, nothing stored locally.
                assertThat(completeSegments(new LocalStorage(source.repository()))).isEmpty();

                // verify --all against the bucket, where the archive is: a backup stored there, then its chain.
                PgBackup inBucket = PgBackup.builder(source.pgBackup().config()).storage(bucket).bucket(bucket).build();
                assertBackupVerifies(source, inBucket);
            }
        }
    }
}
