package io.pgbackup.core.backup;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A complete backup in the repository: where it is and its manifest.
 *
 * @param warnings things that went wrong around a backup that itself succeeded (a failed inline
 *                 remote copy); empty for listed backups
 */
public record BackupInfo(String id, Path directory, BackupManifest manifest,
                         @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> warnings) {
    public BackupInfo {
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    public BackupInfo(String id, Path directory, BackupManifest manifest) {
        this(id, directory, manifest, List.of());
    }

    /** This backup with one more warning. */
    public BackupInfo withWarning(String warning) {
        List<String> all = new java.util.ArrayList<>(warnings);
        all.add(warning);
        return new BackupInfo(id, directory, manifest, all);
    }

    public long storedBytes() {
        return manifest.storedBytes();
    }

    /** Age at {@code now}, measured from the end of the backup. */
    public Duration age(Instant now) {
        return Duration.between(manifest.endTime().toInstant(), now);
    }

    /** Bytes of database per second of backup, the throughput figure in summaries. */
    public double throughputBytesPerSecond() {
        long millis = Math.max(1, manifest.durationMillis());
        return manifest.databaseSizeBytes() * 1000.0 / millis;
    }
}
