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
 */
public record RestorePlan(BackupInfo backup, Path targetDir, Optional<Path> moveAsideTo, RecoveryTarget target,
                          TargetAction action, List<WalNeed> wal, List<String> filesToWrite,
                          Map<String, String> recoverySettings, List<String> warnings) {
    public RestorePlan {
        wal = List.copyOf(wal);
        filesToWrite = List.copyOf(filesToWrite);
        recoverySettings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(recoverySettings));
        warnings = List.copyOf(warnings);
    }

    /** One WAL file replay will ask for: its name and whether the archive has it. */
    public record WalNeed(String segment, boolean present) {
    }
}
