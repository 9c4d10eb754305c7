package io.pgbackup.core.backup;

import java.util.List;

/** What {@code base/} holds: the complete backups and the directories whose manifest cannot be read. */
public record BackupScan(List<BackupInfo> backups, List<UnreadableBackup> unreadable) {
    public BackupScan {
        backups = List.copyOf(backups);
        unreadable = List.copyOf(unreadable);
    }

    /**
     * A backup directory whose {@code pgbackup_manifest.json} cannot be read. {@code list}, restore and
     * cleanup leave it out (nothing can be trusted without the manifest), {@code status} warns about
     * it, and {@code verify ID} says why it fails.
     */
    public record UnreadableBackup(String id, @com.fasterxml.jackson.annotation.JsonProperty("directory") String location, String reason) {
    }
}
