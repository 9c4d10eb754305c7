package io.pgbackup.core.backup;

import java.util.List;

/**
 * What a backup will be, decided before it starts: its type ({@code full}, {@code diff} or
 * {@code incr}), the backup it holds the changes since and the chain a restore then needs, and why
 * (e.g. why a full is taken although an incr was asked for).
 *
 * @param requested what was asked: {@code full}, {@code diff}, {@code incr} or {@code auto}
 * @param parent    null for a full
 * @param chain     the backups a restore needs first, from the full to {@code parent}; empty for a full
 */
public record BackupPlan(String type, String requested, String parent, List<String> chain, String reason) {
    public BackupPlan {
        chain = List.copyOf(chain);
    }

    public boolean isFull() {
        return BackupManifest.FULL.equals(type);
    }

    /** One line: {@code incr on 20250101_000000 (chain of 3): <reason>}. */
    public String describe() {
        return isFull() ? "full: " + reason
                : type + " on " + parent + " (chain of " + (chain.size() + 1) + "): " + reason;
    }
}
