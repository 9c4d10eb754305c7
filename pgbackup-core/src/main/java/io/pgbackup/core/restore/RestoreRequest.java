package io.pgbackup.core.restore;

import io.pgbackup.core.restore.RestorePlan.ArchiveMode;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.restore.RecoveryTarget.TargetTimeline;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the user asked for.
 *
 * @param backupId          empty: the newest backup that ends before the target
 * @param targetDir         empty: the configured PGDATA
 * @param moveAside         rename a stopped cluster's non-empty PGDATA (and its non-empty tablespace
 *                          directories) aside first, instead of refusing
 * @param tablespaceMapping a tablespace's original location to where it is restored instead (as
 *                          pg_basebackup's {@code --tablespace-mapping OLD=NEW}); the others go back where they were
 * @param archiveMode       empty: archiving as the backup had it when restoring into PGDATA, else
 *                          {@link ArchiveMode#OFF} (a copy beside production must not archive into its repository)
 * @param delta             rewrite an existing, stopped data directory of the same cluster (and its
 *                          tablespaces) in place: what already matches is kept, what differs rewritten,
 *                          what the backup does not hold removed
 * @param timeline          the timeline replay follows (null: {@link TargetTimeline#latest()})
 */
public record RestoreRequest(Optional<String> backupId, RecoveryTarget target, TargetAction action,
                             Optional<Path> targetDir, boolean moveAside, Map<Path, Path> tablespaceMapping,
                             Optional<ArchiveMode> archiveMode, boolean delta, TargetTimeline timeline) {
    public RestoreRequest {
        timeline = timeline == null ? TargetTimeline.latest() : timeline;
        archiveMode = archiveMode == null ? Optional.empty() : archiveMode;
        backupId = backupId == null ? Optional.empty() : backupId;
        targetDir = targetDir == null ? Optional.empty() : targetDir.map(p -> p.toAbsolutePath().normalize());
        target = target == null ? new RecoveryTarget.EndOfWal() : target;
        action = action == null ? TargetAction.PROMOTE : action;
        Map<Path, Path> mapping = new LinkedHashMap<>();
        if (tablespaceMapping != null) {
            tablespaceMapping.forEach((from, to) -> mapping.put(absolute(from, "OLD"), absolute(to, "NEW")));
        }
        tablespaceMapping = Collections.unmodifiableMap(mapping);
    }

    /** Along the latest timeline. */
    public RestoreRequest(Optional<String> backupId, RecoveryTarget target, TargetAction action,
                          Optional<Path> targetDir, boolean moveAside, Map<Path, Path> tablespaceMapping,
                          Optional<ArchiveMode> archiveMode, boolean delta) {
        this(backupId, target, action, targetDir, moveAside, tablespaceMapping, archiveMode, delta, TargetTimeline.latest());
    }

    /** Into an empty directory (or one moved aside). */
    public RestoreRequest(Optional<String> backupId, RecoveryTarget target, TargetAction action,
                          Optional<Path> targetDir, boolean moveAside, Map<Path, Path> tablespaceMapping,
                          Optional<ArchiveMode> archiveMode) {
        this(backupId, target, action, targetDir, moveAside, tablespaceMapping, archiveMode, false);
    }

    /** This request as a delta restore (or not). */
    public RestoreRequest withDelta(boolean delta) {
        return new RestoreRequest(backupId, target, action, targetDir, moveAside, tablespaceMapping, archiveMode, delta, timeline);
    }

    /** This request replaying along {@code timeline}. */
    public RestoreRequest withTimeline(TargetTimeline timeline) {
        return new RestoreRequest(backupId, target, action, targetDir, moveAside, tablespaceMapping, archiveMode, delta, timeline);
    }

    /** Archiving chosen by where the copy goes (see {@link #archiveMode()}). */
    public RestoreRequest(Optional<String> backupId, RecoveryTarget target, TargetAction action,
                          Optional<Path> targetDir, boolean moveAside, Map<Path, Path> tablespaceMapping) {
        this(backupId, target, action, targetDir, moveAside, tablespaceMapping, Optional.empty());
    }

    /** This request with archiving in the restored copy set to {@code mode}. */
    public RestoreRequest withArchiveMode(ArchiveMode mode) {
        return new RestoreRequest(backupId, target, action, targetDir, moveAside, tablespaceMapping, Optional.of(mode), delta, timeline);
    }

    /** Every tablespace back at its original location. */
    public RestoreRequest(Optional<String> backupId, RecoveryTarget target, TargetAction action,
                          Optional<Path> targetDir, boolean moveAside) {
        this(backupId, target, action, targetDir, moveAside, Map.of());
    }

    public static RestoreRequest latest() {
        return new RestoreRequest(Optional.empty(), new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.empty(), false);
    }

    /** Builds a target from command-line text (at most one of them non-null), in the machine's time zone. */
    public static RecoveryTarget target(String time, String lsn, String xid, String name, String immediate) {
        return RecoveryTarget.fromOptions(time, lsn, xid, name, immediate, java.time.ZoneId.systemDefault());
    }

    /**
     * Parses pg_basebackup's {@code OLD=NEW} (a literal {@code =} in a path written {@code \=}), both
     * absolute; a repeated OLD is refused.
     */
    public static Map<Path, Path> parseTablespaceMapping(Iterable<String> options) {
        Map<Path, Path> mapping = new LinkedHashMap<>();
        for (String option : options == null ? java.util.List.<String>of() : options) {
            int split = -1;
            for (int i = 0; i < option.length(); i++) {
                if (option.charAt(i) == '\\' && i + 1 < option.length() && option.charAt(i + 1) == '=') {
                    i++;
                } else if (option.charAt(i) == '=') {
                    if (split >= 0) {
                        throw usage("--tablespace-mapping " + option + " has more than one '=': write a '=' inside a path as \\=");
                    }
                    split = i;
                }
            }
            if (split <= 0 || split == option.length() - 1) {
                throw usage("--tablespace-mapping " + option + " is not OLD=NEW: give the tablespace's original"
                        + " directory, '=', and where to restore it, e.g. /srv/ts1=/srv/restored/ts1");
            }
            String from = option.substring(0, split).replace("\\=", "=");
            String to = option.substring(split + 1).replace("\\=", "=");
            Path old = absolute(Path.of(from), "OLD");
            if (mapping.put(old, absolute(Path.of(to), "NEW")) != null) {
                throw usage("--tablespace-mapping maps " + old + " twice: give each tablespace one NEW directory");
            }
        }
        return mapping;
    }

    private static Path absolute(Path path, String which) {
        if (path == null || !path.isAbsolute()) {
            throw usage("--tablespace-mapping " + which + " directory " + path + " is not absolute: give a full path such as /srv/ts1");
        }
        return path.normalize();
    }

    private static PgBackupException usage(String message) {
        return new PgBackupException(ErrorCode.INVALID_ARGUMENT, message);
    }
}
