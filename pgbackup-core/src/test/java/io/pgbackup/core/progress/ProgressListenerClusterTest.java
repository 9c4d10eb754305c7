package io.pgbackup.core.progress;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.testing.ArchivingCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** A real backup and restore tell their listener bytes done, never going back, up to the total. */
class ProgressListenerClusterTest {
    @TempDir
    Path work;

    record Update(String phase, long done, long total) {
    }

    @Test
    void backupAndRestoreReportMonotonicProgressReachingTheTotal() throws Exception {
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
