package io.pgbackup.s3;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Storage;

import io.pgbackup.s3.testing.BucketBackups;
import io.pgbackup.s3.testing.S3Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import io.pgbackup.core.internal.restore.RestoreMarkers;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestorePlan;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 16, item 7, restoring from the bucket ({@code --repo s3}): the marker goes into the bucket,
 * whose cleanup honours it; wal-fetch renews it there and the end of recovery removes it. A restore
 * that fails removes its marker at once.
 */
class S3RestoreMarkerTest {
    private static final String ID = "20260101_000000";
    private static final long SEG = 16L * 1024 * 1024;

    @TempDir
    Path work;

    @Test
    void theMarkerOfARestoreFromTheBucketIsInTheBucketAndTheBucketsCleanupHonoursIt() throws Exception {
        try (S3Server server = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = server.storage("repo")) {
            byte[] base = BucketBackups.tarGz("PG_VERSION", "15\n");
            byte[] walTar = BucketBackups.tarGz("archive_status/.keep", "");
            BucketBackups.store(bucket, BucketBackups.manifest(ID, OffsetDateTime.now().minusHours(1)).files(List.of(BucketBackups.file("base.tar.gz", base), BucketBackups.file("pg_wal.tar.gz", walTar))).build(), base, walTar);
            PgBackup pg = pgBackup(bucket, Clock.systemUTC());
            Path target = work.resolve("restored");
            pg.restorePlanner().execute(pg.restorePlanner().plan(new RestoreRequest(Optional.of(ID), new RecoveryTarget.Immediate(),
                    TargetAction.PROMOTE, Optional.of(target), false)));

            List<Storage.StoredObject> markers = bucket.list(RestoreMarkers.PREFIX);
            assertThat(markers).singleElement().satisfies(m -> assertThat(m.name()).startsWith(ID + "-"));
            String key = markers.get(0).key();
            assertThat(work.resolve("local/restores")).doesNotExist();
            assertThat(pg.status().report().restores()).singleElement().satisfies(r -> assertThat(r.backupId()).isEqualTo(ID));

            // The bucket's cleanup, told to keep nothing, keeps the backup being restored.
            PgBackup strict = strict(bucket, Clock.systemUTC());
            RetentionPlan plan = strict.retentionPolicy().plan();
            assertThat(plan.delete()).isEmpty();
            assertThat(plan.keep()).singleElement().satisfies(d -> assertThat(d.reason()).startsWith("being restored into " + target));
            strict.retentionPolicy().execute(plan);
            assertThat(bucket.stat(Repository.manifestKey(ID))).isPresent();

            // Replay renews it (wal-fetch: a rewrite, at most once a minute).
            Instant later = Instant.now().plus(Duration.ofMinutes(2));
            RestoreMarkers.renewFrom(new Repository(work.resolve("local"), bucket), target.resolve("pg_wal"), Clock.fixed(later, ZoneOffset.UTC));
            assertThat(new String(bucket.read(key), StandardCharsets.UTF_8)).contains("\"renewed\" : \"" + later + "\"");
            // The fetch-ahead fetches into pg_wal/pgbackup_prefetch: the same marker.
            Instant evenLater = later.plus(Duration.ofMinutes(2));
            RestoreMarkers.renewFrom(new Repository(work.resolve("local"), bucket), target.resolve("pg_wal/pgbackup_prefetch"),
                    Clock.fixed(evenLater, ZoneOffset.UTC));
            assertThat(new String(bucket.read(key), StandardCharsets.UTF_8)).contains("\"renewed\" : \"" + evenLater + "\"");
            // Within a minute of its last write (the server's clock), nothing is written.
            RestoreMarkers.renewFrom(new Repository(work.resolve("local"), bucket), target.resolve("pg_wal"), Clock.systemUTC());
            assertThat(new String(bucket.read(key), StandardCharsets.UTF_8)).contains("\"renewed\" : \"" + evenLater + "\"");

            // The end of recovery (restore_wal.sh runs wal-fetch --end-restore) removes it; cleanup then deletes.
            pg.endRestore(target);
            assertThat(bucket.list(RestoreMarkers.PREFIX)).isEmpty();
            assertThat(target.resolve(RestoreMarkers.POINTER)).doesNotExist();
            assertThat(strict.retentionPolicy().execute(strict.retentionPolicy().plan()).deletedBackups()).containsExactly(ID);
        }
    }

    @Test
    void aFailedRestoreLeavesNoMarker() throws Exception {
        try (S3Server server = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = server.storage("repo")) {
            byte[] base = BucketBackups.tarGz("PG_VERSION", "15\n");
            byte[] walTar = BucketBackups.tarGz("archive_status/.keep", "");
            byte[] other = base.clone();
            other[other.length / 2] ^= 1;
            BucketBackups.store(bucket, BucketBackups.manifest(ID, OffsetDateTime.now().minusHours(1)).files(List.of(BucketBackups.file("base.tar.gz", other), BucketBackups.file("pg_wal.tar.gz", walTar))).build(), base, walTar);
            PgBackup pg = pgBackup(bucket, Clock.systemUTC());
            RestorePlan plan = pg.restorePlanner().plan(new RestoreRequest(Optional.of(ID), new RecoveryTarget.Immediate(),
                    TargetAction.PROMOTE, Optional.of(work.resolve("restored")), false));

            assertThatThrownBy(() -> pg.restorePlanner().execute(plan)).isInstanceOf(PgBackupException.class);
            assertThat(bucket.list(RestoreMarkers.PREFIX)).isEmpty();
        }
    }

    private PgBackup strict(S3Storage bucket, Clock clock) {
        PgBackupConfig config = PgBackupConfig.builder().host("127.0.0.1").port(1).user("nobody").database("postgres")
                .backupDir(work.resolve("local")).retainCount(0).retainDays(0).retainWalDays(0).build();
        return PgBackup.builder(config).bucket(bucket).repositorySource(PgBackup.RepositorySource.S3).clock(clock).build();
    }

    private PgBackup pgBackup(S3Storage bucket, Clock clock) {
        PgBackupConfig config = PgBackupConfig.builder().host("127.0.0.1").port(1).user("nobody").database("postgres")
                .backupDir(work.resolve("local")).build();
        return PgBackup.builder(config).bucket(bucket).repositorySource(PgBackup.RepositorySource.S3).clock(clock).build();
    }

}
