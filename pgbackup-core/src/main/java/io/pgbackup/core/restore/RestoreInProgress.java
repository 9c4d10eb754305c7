package io.pgbackup.core.restore;

import java.time.Instant;

/**
 * A restore whose recovery may still read the repository, from its marker in {@code restores/}:
 * cleanup keeps its backup and the WAL from the backup's start on while {@code expires} is ahead.
 *
 * @param marker    the marker's key, {@code restores/<id>.json}
 * @param backupId  the backup restored (null when the marker cannot be read)
 * @param timeline  the backup's timeline; WAL on it and on later timelines stays from {@code startWal} on
 * @param startWal  the first segment replay needs
 * @param target    the recovery target, as restore described it
 * @param targetDir the data directory restored into
 * @param host      the machine restored on
 * @param started   when the restore began
 * @param expires   when the marker stops protecting unless replay renews it
 * @param problem   why the marker cannot be read (null when it can): then it protects every backup
 *                  and all WAL until it expires
 */
public record RestoreInProgress(String marker, String backupId, int timeline, String startWal, String target,
                                String targetDir, String host, Instant started, Instant expires, String problem) {
    /** Whether the marker still protects at {@code now}. */
    public boolean live(Instant now) {
        return now.isBefore(expires);
    }

    /** Whether it could be read; an unreadable marker protects everything while it is live. */
    public boolean readable() {
        return problem == null;
    }
}
