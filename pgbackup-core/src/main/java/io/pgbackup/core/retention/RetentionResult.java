package io.pgbackup.core.retention;

import java.time.Duration;
import java.util.List;

/**
 * What one cleanup removed.
 *
 * @param deletedBackups  ids of the backups removed
 * @param deletedWalFiles WAL archive files removed
 * @param removedOrphans  leftovers removed
 * @param bytesFreed      bytes of everything removed
 * @param skipped         what the plan listed but was already gone
 */
public record RetentionResult(RetentionPlan plan, List<String> deletedBackups, int deletedWalFiles,
                              int removedOrphans, long bytesFreed, Duration duration, List<String> skipped) {
    public RetentionResult {
        deletedBackups = List.copyOf(deletedBackups);
        skipped = List.copyOf(skipped);
    }
}
