package io.pgbackup.core.storage;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestorePlan;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.verify.VerifyReport;
import io.pgbackup.core.verify.VerifyRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A repository written by pgbackup 0458bc6, before the storage seam (made by
 * src/test/resources/legacy/make-repository.sh: a backup of 1000 rows, then 500 more archived), is
 * listed, verified with a restore test, and restored to the end of its WAL by this version.
 */
class LegacyRepositoryTest {
    @TempDir
    Path work;

    @Test
    void aRepositoryOfThePreviousVersionIsListedVerifiedAndRestored() throws Exception {
        List<String> expected;
        try (InputStream in = getClass().getResourceAsStream("/legacy/repository-0458bc6.expected")) {
            expected = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        try (InputStream in = getClass().getResourceAsStream("/legacy/repository-0458bc6.tar")) {
            Path tar = work.resolve("repository.tar");
            Files.copy(in, tar);
            PgCluster.run(List.of("tar", "-xf", tar.toString(), "-C", work.toString()), Duration.ofMinutes(1));
        }
        Path repo = work.resolve("repo");
        String id = expected.get(1);
        PgBackup pg = PgBackup.builder(PgBackupConfig.builder().backupDir(repo).user(PgCluster.SUPERUSER)
                .database(PgCluster.DATABASE).build()).binaries(PgCluster.binaries()).build();

        List<BackupInfo> backups = pg.backups().list();
        assertThat(backups).extracting(BackupInfo::id).containsExactly(id);
        assertThat(backups.get(0).manifest().files()).extracting(f -> f.name())
                .containsExactly("base.tar.gz", "pg_wal.tar.gz", "backup_manifest");

        VerifyReport report = pg.verifier().verify(VerifyRequest.of(id).withRestoreTest(true));
        assertThat(report.ok()).as(report.toString()).isTrue();

        Path target = work.resolve("restored");
        RestorePlan plan = pg.restorePlanner().plan(new RestoreRequest(Optional.of(id), new RecoveryTarget.EndOfWal(),
                TargetAction.PROMOTE, Optional.of(target), false));
        assertThat(plan.wal()).extracting(RestorePlan.WalNeed::present).containsOnly(true).isNotEmpty();
        pg.restorePlanner().execute(plan);
        try (PgCluster copy = PgCluster.startExisting(target, work.resolve("run"), "unused: trust")) {
            copy.awaitPromoted(Duration.ofMinutes(2));
            assertThat(copy.queryString("SELECT count(*) || '|' || md5(string_agg(id::text || note, ',' ORDER BY id)) FROM orders"))
                    .isEqualTo(expected.get(0));
        }
    }
}
