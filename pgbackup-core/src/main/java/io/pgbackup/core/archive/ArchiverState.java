package io.pgbackup.core.archive;

import java.time.Instant;

/**
 * The archiver as it last reported itself (its state file, rewritten every second while it runs).
 *
 * @param running            a live process holds the repository's archiver lock
 * @param pid                its process id
 * @param pgData             the cluster it archives
 * @param startedAt          when it started
 * @param updatedAt          when it last wrote this state
 * @param queueDepth         {@code .ready} files it saw waiting, the segment PostgreSQL is on included
 * @param lastAcknowledged   the newest file acknowledged as archived, empty when none yet
 * @param lastAcknowledgedAt when, null when none
 * @param lastAckLatencyMillis from seeing the {@code .ready} to the acknowledgement, for the last file
 * @param averageAckLatencyMillis the same over this run
 * @param acknowledged       files acknowledged this run
 * @param failed             error acknowledgements this run
 * @param lastError          the last error (empty when none); while it is newer than the last acknowledgement, archiving is stuck on it
 * @param lastErrorAt        when, null when none
 * @param offsitePending     archived files not yet copied to the offsite targets (bucket, rsync remote)
 * @param offsiteOldestPendingSince when the oldest of those was archived, null when none
 * @param offsiteLastError   the last offsite copy failure, empty when none
 */
public record ArchiverState(boolean running, long pid, String pgData, Instant startedAt, Instant updatedAt, int queueDepth,
                            String lastAcknowledged, Instant lastAcknowledgedAt, long lastAckLatencyMillis,
                            long averageAckLatencyMillis, long acknowledged, long failed, String lastError, Instant lastErrorAt,
                            int offsitePending, Instant offsiteOldestPendingSince, String offsiteLastError) {
    /** The same state, of a process that is gone (it died without saying so). */
    public ArchiverState notRunning() {
        return new ArchiverState(false, pid, pgData, startedAt, updatedAt, queueDepth, lastAcknowledged, lastAcknowledgedAt,
                lastAckLatencyMillis, averageAckLatencyMillis, acknowledged, failed, lastError, lastErrorAt, offsitePending,
                offsiteOldestPendingSince, offsiteLastError);
    }

    /** Whether the last thing that happened was an error: archiving is stuck until it clears. */
    public boolean stuck() {
        return lastErrorAt != null && (lastAcknowledgedAt == null || lastErrorAt.isAfter(lastAcknowledgedAt));
    }
}
