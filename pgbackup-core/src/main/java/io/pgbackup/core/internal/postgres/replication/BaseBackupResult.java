package io.pgbackup.core.internal.postgres.replication;

import java.util.List;

/**
 * What a finished base backup reports. {@code tablespaces} lists the tablespaces other than the
 * data directory; {@code inRecovery} says the backup was taken from a standby.
 */
public record BaseBackupResult(int serverVersionNum, String systemIdentifier, Lsn startLsn, int startTimeline,
                               Lsn endLsn, int endTimeline, int walSegmentSize, List<TablespaceInfo> tablespaces,
                               boolean inRecovery) {
    public BaseBackupResult {
        tablespaces = List.copyOf(tablespaces);
    }
}
