package io.pgbackup.core.restore;

import io.pgbackup.core.backup.BackupInfo;

import java.nio.file.Path;
import java.util.List;
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
 */
public record RestorePlan(BackupInfo backup, Path targetDir, Optional<Path> moveAsideTo, RecoveryTarget target,
                          TargetAction action, List<WalNeed> wal, List<String> filesToWrite,
                          Map<String, String> recoverySettings, List<String> warnings, List<TablespaceTarget> tablespaces) {
    public RestorePlan {
        wal = List.copyOf(wal);
        filesToWrite = List.copyOf(filesToWrite);
        recoverySettings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(recoverySettings));
        warnings = List.copyOf(warnings);
        tablespaces = tablespaces == null ? List.of() : List.copyOf(tablespaces);
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
}
