package io.pgbackup.core.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a restore will do, computed before anything is touched; {@code --dry-run} prints it.
 *
 * @param moveAsideTo      where the existing PGDATA will be renamed first, if at all
 * @param wal              the archived WAL segments replay needs beyond the backup's own, and whether each is there
 * @param filesToWrite     what will be created, in order
 * @param recoverySettings what goes into postgresql.auto.conf
 * @param warnings         things that will not stop the restore but deserve a look
 * @param tablespaces      where each tablespace of the backup goes
 * @param archiveMode      whether the restored copy archives ({@link ArchiveMode#OFF}: {@code archive_mode = off}
 *                         is among the recovery settings)
 * @param timeline         the timeline replay ends on, as the archive's history files resolve
 *                         {@code recovery_target_timeline} (0: the backup's own)
 */
public record RestorePlan(BackupInfo backup, Path targetDir, Optional<Path> moveAsideTo, RecoveryTarget target,
                          TargetAction action, List<WalNeed> wal, List<String> filesToWrite,
                          Map<String, String> recoverySettings, List<String> warnings, List<TablespaceTarget> tablespaces,
                          ArchiveMode archiveMode, int timeline) {
    public RestorePlan {
        timeline = timeline == 0 ? backup.manifest().timeline() : timeline;
        archiveMode = archiveMode == null ? ArchiveMode.PRESERVE : archiveMode;
        wal = List.copyOf(wal);
        filesToWrite = List.copyOf(filesToWrite);
        recoverySettings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(recoverySettings));
        warnings = List.copyOf(warnings);
        tablespaces = tablespaces == null ? List.of() : List.copyOf(tablespaces);
    }

    /** A plan that replays the backup's own timeline. */
    public RestorePlan(BackupInfo backup, Path targetDir, Optional<Path> moveAsideTo, RecoveryTarget target,
                       TargetAction action, List<WalNeed> wal, List<String> filesToWrite,
                       Map<String, String> recoverySettings, List<String> warnings, List<TablespaceTarget> tablespaces,
                       ArchiveMode archiveMode) {
        this(backup, targetDir, moveAsideTo, target, action, wal, filesToWrite, recoverySettings, warnings, tablespaces,
                archiveMode, 0);
    }

    /** A plan that leaves the backup's archiving settings as they are. */
    public RestorePlan(BackupInfo backup, Path targetDir, Optional<Path> moveAsideTo, RecoveryTarget target,
                       TargetAction action, List<WalNeed> wal, List<String> filesToWrite,
                       Map<String, String> recoverySettings, List<String> warnings, List<TablespaceTarget> tablespaces) {
        this(backup, targetDir, moveAsideTo, target, action, wal, filesToWrite, recoverySettings, warnings, tablespaces,
                ArchiveMode.PRESERVE);
    }

    /** What the restored copy does about archiving, in one line (for the plan and the result). */
    public String archivingNote() {
        return archiveMode == ArchiveMode.OFF
                ? "off: archive_mode = off in " + targetDir.resolve("postgresql.auto.conf") + ", so the copy never archives"
                + " into the backed-up cluster's repository (--archive-mode preserve keeps the backup's archiving)"
                : "as the backed-up cluster had it (archive_mode and archive_command kept): once promoted, the copy"
                + " archives its new timeline wherever that archive_command points";
    }

    /** A plan for a backup without tablespaces outside its data directory. */
    public RestorePlan(BackupInfo backup, Path targetDir, Optional<Path> moveAsideTo, RecoveryTarget target,
                       TargetAction action, List<WalNeed> wal, List<String> filesToWrite,
                       Map<String, String> recoverySettings, List<String> warnings) {
        this(backup, targetDir, moveAsideTo, target, action, wal, filesToWrite, recoverySettings, warnings, List.of());
    }

    /**
     * One tablespace: its OID, where it was when backed up, where it is restored ({@code pg_tblspc/<oid>}
     * will point there), the stored archive extracted into it, and where a non-empty directory there
     * is renamed first, if at all.
     */
    public record TablespaceTarget(long oid, String originalLocation, Path location, String archive,
                                   Optional<Path> moveAsideTo) {
        /** Restored somewhere else than where it was: {@code tablespace_map} is rewritten. */
        public boolean relocated() {
            return !Path.of(originalLocation).normalize().equals(location);
        }
    }

    /** One WAL file replay will ask for: its name and whether the archive has it. */
    public record WalNeed(String segment, boolean present) {
    }

    /**
     * Whether a restored copy archives WAL (pgBackRest's {@code --archive-mode}). A copy restored
     * beside the production cluster (a test restore) that kept the backup's {@code archive_mode} and
     * {@code archive_command} would promote and archive its new timeline into the production
     * repository; so a restore anywhere but PGDATA writes {@code archive_mode = off} unless told to
     * {@link #PRESERVE} it.
     */
    public enum ArchiveMode {
        /** {@code archive_mode = off} in the copy's postgresql.auto.conf. */
        OFF,
        /** The backup's archiving settings, as they were. */
        PRESERVE;

        public String setting() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static ArchiveMode parse(String text) {
            for (ArchiveMode m : values()) {
                if (m.setting().equals(text.trim().toLowerCase(Locale.ROOT))) {
                    return m;
                }
            }
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "--archive-mode '" + text
                    + "' is not known: use off (the copy does not archive) or preserve (it archives as the backed-up cluster did)");
        }
    }
}
