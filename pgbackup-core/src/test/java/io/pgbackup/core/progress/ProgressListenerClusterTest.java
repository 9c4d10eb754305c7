package io.pgbackup.core.progress;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;
import io.pgbackup.core.verify.VerifyRequest;
import io.pgbackup.core.testing.ArchivingCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** A real backup, restore, verify and cleanup tell their listener bytes done, never going back, up to the total. */
class ProgressListenerClusterTest {
    @TempDir
    Path work;

    record Update(String phase, long done, long total) {
    }

    @Test
    void backupRestoreVerifyAndCleanupReportMonotonicProgressReachingTheTotal() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            source.cluster().execute("CREATE TABLE t AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 100000) g");
            PgBackup pg = source.pgBackup();
            List<Update> backup = new ArrayList<>();
            BackupInfo info = pg.backups().backup(BackupOptions.defaults()
                    .withProgressListener((phase, done, total) -> backup.add(new Update(phase, done, total))));
            assertProgress(backup, "backup");
            source.switchAndAwaitArchived();

            List<Update> restore = new ArrayList<>();
            Path target = work.resolve("restored");
            pg.restorePlanner().execute(pg.restorePlanner().plan(new RestoreRequest(Optional.of(info.id()),
                    new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.of(target), false)),
                    (phase, done, total) -> {
                        synchronized (restore) {
                            restore.add(new Update(phase, done, total));
                        }
                    });
            assertProgress(restore, "restore");
            assertThat(restore.get(0).total()).isEqualTo(info.manifest().databaseSizeBytes());

            // verify: the stored bytes of the backups it reads, as their manifests list them.
            List<Update> verify = new ArrayList<>();
            assertThat(pg.verifier().verify(VerifyRequest.of(info.id()), v -> { }, (phase, done, total) -> {
                synchronized (verify) {
                    verify.add(new Update(phase, done, total));
                }
            }).ok()).isTrue();
            assertProgress(verify, "verify");
            assertThat(verify.get(0).total()).isEqualTo(info.storedBytes());

            // cleanup: the bytes its plan frees, here the middle one of three backups (the restore above keeps the first).
            PgBackup keepOne = PgBackup.create(pg.config().toBuilder().retainCount(1).retainDays(0).build());
            String middle = keepOne.backups().backup(BackupOptions.defaults()).id();
            keepOne.backups().backup(BackupOptions.defaults());
            RetentionPlan plan = keepOne.retentionPolicy().plan();
            assertThat(plan.delete()).extracting(RetentionPlan.BackupDecision::id).containsExactly(middle);
            List<Update> cleanup = new ArrayList<>();
            keepOne.retentionPolicy().execute(plan, (phase, done, total) -> cleanup.add(new Update(phase, done, total)));
            assertProgress(cleanup, "cleanup");
            assertThat(cleanup.get(0).total()).isEqualTo(plan.bytesFreed());
        }
    }

    // How many updates arrive depends on speed (the wire code reports at most once a second): their shape is asserted, not their count.
    private static void assertProgress(List<Update> updates, String phase) {
        assertThat(updates).as(phase).isNotEmpty().allMatch(u -> u.phase().equals(phase) && u.total() > 0);
        for (int i = 1; i < updates.size(); i++) {
            assertThat(updates.get(i).done()).as(phase + " update " + i).isGreaterThanOrEqualTo(updates.get(i - 1).done());
        }
        Update last = updates.get(updates.size() - 1);
        assertThat(last.done()).as(phase + ": the last update reaches the total").isGreaterThanOrEqualTo(last.total());
    }
}
