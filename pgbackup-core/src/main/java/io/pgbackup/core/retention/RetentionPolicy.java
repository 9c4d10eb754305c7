package io.pgbackup.core.retention;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * Decides which backups and WAL files may go, as a plan, then removes them.
 *
 * <p>{@link #plan()} only reads; {@code cleanup --dry-run} prints exactly what it returns.
 * {@link #execute(RetentionPlan)} takes the repository lock and removes what the plan lists,
 * backups first, so an interruption never leaves a backup that looks valid without its WAL.
 */
public interface RetentionPolicy {
    /** What cleanup would do now, with the reason for every decision; changes nothing. */
    RetentionPlan plan();

    /**
     * Removes what {@code plan} lists, holding the repository lock. Something already gone (another
     * cleanup) is skipped, not an error.
     */
    RetentionResult execute(RetentionPlan plan);

    /**
     * {@link #execute(RetentionPlan)}, telling {@code progress} the bytes of the plan dealt with
     * (deleted, or skipped as already gone or kept for a restore) of {@link RetentionPlan#bytesFreed()}
     * (phase {@code cleanup}); implementations without it ignore it.
     */
    default RetentionResult execute(RetentionPlan plan, io.pgbackup.core.progress.ProgressListener progress) {
        return execute(plan);
    }

    /**
     * Everything one cleanup will do, computed before anything is touched.
     *
     * @param now          the clock reading ages were measured against
     * @param rules        the settings the decisions follow
     * @param keep         backups that stay, newest first, each with why
     * @param delete       backups that go, newest first, each with why
     * @param walFloors    per timeline, the oldest WAL segment that stays and why
     * @param walToDelete  archived WAL files (segments, {@code .partial}, {@code .backup} labels) that go, oldest first
     * @param orphans      leftovers of interrupted runs that go (staging and deleting directories, temp files)
     * @param bytesFreed   what deleting all of the above frees
     * @param notes        things kept on purpose that a reader may wonder about
     */
    record RetentionPlan(Instant now, Rules rules, List<BackupDecision> keep, List<BackupDecision> delete,
                                List<WalFloor> walFloors, List<WalFile> walToDelete, List<Orphan> orphans,
                                long bytesFreed, List<String> notes) {
        public RetentionPlan {
            keep = List.copyOf(keep);
            delete = List.copyOf(delete);
            walFloors = List.copyOf(walFloors);
            walToDelete = List.copyOf(walToDelete);
            orphans = List.copyOf(orphans);
            notes = List.copyOf(notes);
        }

        /** Whether executing this plan would change nothing. */
        public boolean isEmpty() {
            return delete.isEmpty() && walToDelete.isEmpty() && orphans.isEmpty();
        }

        /** {@code PG_BACKUP_RETAIN_COUNT}, {@code PG_BACKUP_RETAIN_DAYS}, {@code PG_BACKUP_RETAIN_WAL_DAYS}. */
        public record Rules(int retainCount, int retainDays, int retainWalDays) {
        }

        /** One backup and what happens to it. {@code age} is measured from the backup's end. */
        public record BackupDecision(String id, OffsetDateTime endTime, Duration age, long bytes, String reason) {
        }

        /**
         * On {@code timeline}, segments from {@code oldestKept} on stay (older ones may still stay for
         * {@code PG_BACKUP_RETAIN_WAL_DAYS}).
         */
        public record WalFloor(int timeline, String oldestKept, String reason) {
        }

        /** One archived file, as named in {@code wal_archive/} (with its compression suffix). */
        public record WalFile(String file, long bytes, Instant archivedAt) {
        }

        /**
         * A leftover of an interrupted backup, cleanup or archive call: where it is, and its objects
         * (none for a directory an earlier version left, which goes whole).
         */
        public record Orphan(String location, List<String> keys, long bytes, String reason) {
            public Orphan {
                keys = List.copyOf(keys);
            }
        }
    }

    /**
     * What one cleanup removed.
     *
     * @param deletedBackups  ids of the backups removed
     * @param deletedWalFiles WAL archive files removed
     * @param removedOrphans  leftovers removed
     * @param bytesFreed      bytes of everything removed
     * @param skipped         what the plan listed but was already gone
     */
    record RetentionResult(RetentionPlan plan, List<String> deletedBackups, int deletedWalFiles,
                                  int removedOrphans, long bytesFreed, Duration duration, List<String> skipped) {
        public RetentionResult {
            deletedBackups = List.copyOf(deletedBackups);
            skipped = List.copyOf(skipped);
        }
    }
}
