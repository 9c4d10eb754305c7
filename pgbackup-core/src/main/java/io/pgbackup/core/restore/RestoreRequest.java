package io.pgbackup.core.restore;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What the user asked for.
 *
 * @param backupId   empty: the newest backup that ends before the target
 * @param targetDir  empty: the configured PGDATA
 * @param moveAside  rename a stopped cluster's non-empty PGDATA aside first, instead of refusing
 */
public record RestoreRequest(Optional<String> backupId, RecoveryTarget target, TargetAction action,
                             Optional<Path> targetDir, boolean moveAside) {
    public RestoreRequest {
        backupId = backupId == null ? Optional.empty() : backupId;
        targetDir = targetDir == null ? Optional.empty() : targetDir.map(p -> p.toAbsolutePath().normalize());
        target = target == null ? new RecoveryTarget.EndOfWal() : target;
        action = action == null ? TargetAction.PROMOTE : action;
    }

    public static RestoreRequest latest() {
        return new RestoreRequest(Optional.empty(), new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.empty(), false);
    }

    /** Builds a target from command-line text (at most one of them non-null), in the machine's time zone. */
    public static RecoveryTarget target(String time, String lsn, String xid, String name, String immediate) {
        return RecoveryTarget.fromOptions(time, lsn, xid, name, immediate, java.time.ZoneId.systemDefault());
    }
}
