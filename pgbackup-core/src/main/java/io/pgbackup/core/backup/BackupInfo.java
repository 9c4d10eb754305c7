package io.pgbackup.core.backup;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A complete backup in the repository: its key prefix ({@code base/<id>}), where that is for
 * people (a directory, or an {@code s3://} URL), and its manifest.
 *
 * @param warnings things that went wrong around a backup that itself succeeded (a failed inline
 *                 remote copy); empty for listed backups
 */
public record BackupInfo(String id, String key, @JsonProperty("directory") String location, BackupManifest manifest,
                         @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> warnings) {
    public BackupInfo {
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    public BackupInfo(String id, String key, String location, BackupManifest manifest) {
        this(id, key, location, manifest, List.of());
    }

    /** The key of one of this backup's files. */
    public String fileKey(String name) {
        return key + "/" + name;
    }

    /** This backup with one more warning. */
    public BackupInfo withWarning(String warning) {
        List<String> all = new java.util.ArrayList<>(warnings);
        all.add(warning);
        return new BackupInfo(id, key, location, manifest, all);
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
