package io.pgbackup.core.internal.retention;

import io.pgbackup.core.internal.restore.RestoreMarkers;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.restore.RestoreInProgress;
import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What restores in progress (their markers in {@code restores/}) keep from cleanup: the backup each
 * restores, and the WAL from that backup's start segment on, on its timeline and on every later one
 * (a superset of the timelines that descend from it: safe, and needs no history file). The range
 * is open-ended: replay may run to the archive's end. A marker that cannot be read keeps every
 * backup and all WAL while it lives. Expired markers go as leftovers.
 */
final class RestoreProtection {
    private final List<RestoreInProgress> live;
    private final List<RestoreInProgress> expired;

    private RestoreProtection(List<RestoreInProgress> live, List<RestoreInProgress> expired) {
        this.live = live;
        this.expired = expired;
    }

    static RestoreProtection read(Repository repository, Instant now) {
        List<RestoreInProgress> live = new ArrayList<>();
        List<RestoreInProgress> expired = new ArrayList<>();
        try {
            for (RestoreInProgress r : RestoreMarkers.list(repository)) {
                (r.live(now) ? live : expired).add(r);
            }
        } catch (IOException e) {
            throw Repository.ioFailure("cannot read the restore markers in " + repository.locationOf(RestoreMarkers.PREFIX)
                    + " (cleanup deletes nothing it cannot check against them)", e);
        }
        return new RestoreProtection(live, expired);
    }

    /** A live marker that cannot be read: nothing a restore may need can be ruled out. */
    Optional<RestoreInProgress> unreadable() {
        return live.stream().filter(r -> !r.readable()).findFirst();
    }

    /** Why {@code backupId} stays for a restore, if it does. */
    Optional<String> keeps(String backupId) {
        return unreadable().map(RestoreProtection::unreadableReason)
                .or(() -> live.stream().filter(r -> backupId.equals(r.backupId())).findFirst().map(RestoreProtection::reason));
    }

    /**
     * Why an archived WAL file ({@code segment}: its 24 hex digits) stays for a restore, if it does.
     * Within a timeline, names order as their segments do (fixed-width hex), whatever the segment size.
     */
    Optional<String> keepsWal(String segment) {
        if (unreadable().isPresent()) {
            return unreadable().map(RestoreProtection::unreadableReason);
        }
        long timeline = Long.parseLong(segment.substring(0, 8), 16);
        for (RestoreInProgress r : live) {
            if (timeline >= r.timeline() && segment.substring(8).compareTo(r.startWal().substring(8)) >= 0) {
                return Optional.of(reason(r));
            }
        }
        return Optional.empty();
    }

    /** Whether the marker under {@code key} is live (renewed since an earlier reading found it expired). */
    boolean isLive(String key) {
        return live.stream().anyMatch(r -> r.marker().equals(key));
    }

    /** One note per live marker, for the plan. */
    List<String> notes() {
        List<String> notes = new ArrayList<>();
        for (RestoreInProgress r : live) {
            notes.add(r.readable() ? "restore of backup " + r.backupId() + " into " + r.targetDir() + " on " + r.host()
                    + " is in progress (" + r.marker() + ", live until " + r.expires() + "): backup " + r.backupId()
                    + " and WAL from " + r.startWal() + " on (timeline " + r.timeline() + " and later) stay"
                    : unreadableReason(r) + ": no backup and no WAL is deleted; remove it if no restore is running");
        }
        return notes;
    }

    /** Markers past their expiry: leftovers of restores that ended without recovery_end_command, or died. */
    List<RetentionPlan.Orphan> expiredMarkers(Repository repository) {
        return expired.stream().map(r -> new RetentionPlan.Orphan(repository.locationOf(r.marker()), List.of(r.marker()), 0,
                "expired restore marker" + (r.readable() ? " of a restore of backup " + r.backupId() + " into " + r.targetDir() : "")
                        + " (expired " + r.expires() + ")")).toList();
    }

    private static String reason(RestoreInProgress r) {
        return "being restored into " + r.targetDir() + " on " + r.host() + " (" + r.marker() + ", live until " + r.expires() + ")";
    }

    private static String unreadableReason(RestoreInProgress r) {
        return "restore marker " + r.marker() + " cannot be read (" + r.problem() + ") and is live until " + r.expires();
    }
}
