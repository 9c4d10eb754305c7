package io.pgbackup.core.verify;

import java.time.Duration;
import java.util.List;

/**
 * What {@code verify} found: one verdict per backup, oldest first, and notes that do not change
 * a verdict (the result could not be recorded, for instance).
 */
public record VerifyReport(List<BackupVerdict> backups, boolean ok, Duration duration, List<String> warnings) {
    public VerifyReport {
        backups = List.copyOf(backups);
        warnings = List.copyOf(warnings);
    }

    public List<BackupVerdict> failed() {
        return backups.stream().filter(b -> !b.ok()).toList();
    }
}
