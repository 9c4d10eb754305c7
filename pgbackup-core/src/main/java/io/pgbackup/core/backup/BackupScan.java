package io.pgbackup.core.backup;

import java.util.List;

/** What {@code base/} holds: the complete backups and the directories whose manifest cannot be read. */
public record BackupScan(List<BackupInfo> backups, List<UnreadableBackup> unreadable) {
    public BackupScan {
        backups = List.copyOf(backups);
        unreadable = List.copyOf(unreadable);
    }
}
