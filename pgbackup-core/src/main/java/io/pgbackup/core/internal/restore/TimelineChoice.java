package io.pgbackup.core.internal.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.archive.TimelineHistories;
import io.pgbackup.core.internal.archive.WalArchive;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.restore.RecoveryTarget.TargetTimeline;

import java.util.List;
import java.util.Optional;

/**
 * Resolves {@code recovery_target_timeline} against the archive's history files as PostgreSQL will,
 * and refuses, before anything is written, a timeline PostgreSQL would refuse to start on
 * ("requested timeline N is not a child of this server's history"): one that does not descend from
 * the backup's timeline, or that branched off it before the backup started. The usual way there is
 * a restored copy that promoted and archived its own timeline into this repository, after which the
 * original cluster went on and was backed up again: {@code latest} then names the copy's timeline.
 */
final class TimelineChoice {
    private TimelineChoice() {
    }

    /** The timeline replay of {@code backup} ends on when asked for {@code asked}; refuses one PostgreSQL would refuse. */
    static int resolve(TargetTimeline asked, BackupInfo backup, WalArchive archive) {
        int timeline = timelineOf(asked, backup, archive);
        Optional<PgBackupException> refusal = refusal(asked, backup, archive, timeline);
        if (refusal.isPresent()) {
            throw refusal.get();
        }
        return timeline;
    }

    /** Whether replay of {@code backup} can follow {@code asked} (for choosing a backup when none was named). */
    static boolean reaches(TargetTimeline asked, BackupInfo backup, WalArchive archive) {
        return refusal(asked, backup, archive, timelineOf(asked, backup, archive)).isEmpty();
    }

    private static int timelineOf(TargetTimeline asked, BackupInfo backup, WalArchive archive) {
        int own = backup.manifest().timeline();
        return asked.isCurrent() ? own : asked.isLatest() ? archive.timelines().newestTimeline(own) : asked.number().getAsInt();
    }

    private static Optional<PgBackupException> refusal(TargetTimeline asked, BackupInfo backup, WalArchive archive, int timeline) {
        BackupManifest m = backup.manifest();
        int own = m.timeline();
        if (timeline == own) {
            return Optional.empty();
        }
        // Left alone by the user (latest), the tool refuses a state; a timeline given by number is a bad argument.
        ErrorCode code = asked.isLatest() ? ErrorCode.REFUSED : ErrorCode.INVALID_ARGUMENT;
        String which = asked.isLatest() ? "the newest timeline in the archive, " + timeline + "," : "timeline " + timeline;
        String stay = "give --target-timeline current to replay timeline " + own + " of backup " + backup.id();
        if (Integer.compareUnsigned(timeline, own) < 0) {
            return Optional.of(new PgBackupException(code, which + " is older than timeline " + own + " of backup " + backup.id()
                    + ": replay follows a backup's own timeline or one branched from it; " + stay + ", or restore a backup taken on "
                    + "timeline " + timeline));
        }
        List<TimelineHistories.TimelineSwitch> history = archive.timelines().history(timeline);
        if (history.isEmpty()) {
            return Optional.of(new PgBackupException(code, which + " has no history file in the archive ("
                    + TimelineHistories.historyFileName(timeline) + "): PostgreSQL would refuse it; " + stay + ", or name a timeline"
                    + " the archive has"));
        }
        Optional<TimelineHistories.TimelineSwitch> branch = history.stream().filter(s -> s.parentTimeline() == own).findFirst();
        if (branch.isEmpty()) {
            return Optional.of(new PgBackupException(code, which + " does not descend from timeline " + own + " of backup "
                    + backup.id() + " (its ancestors: " + history.stream().map(s -> Integer.toString(s.parentTimeline())).toList()
                    + "): PostgreSQL would refuse it; " + stay + ", or restore a backup taken on one of its ancestors"));
        }
        long start = WalSegmentName.parseLsn(m.startLsn());
        if (Long.compareUnsigned(branch.get().switchLsn(), start) <= 0) {
            return Optional.of(new PgBackupException(code, which + " branched off timeline " + own + " at LSN "
                    + WalSegmentName.formatLsn(branch.get().switchLsn()) + ", before backup " + backup.id() + " started (LSN "
                    + m.startLsn() + "): PostgreSQL would refuse to start on it; " + stay + ", or restore a backup taken before"
                    + " the branch"));
        }
        return Optional.empty();
    }
}
