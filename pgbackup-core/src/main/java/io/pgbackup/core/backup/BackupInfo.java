package io.pgbackup.core.backup;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/** A complete backup in the repository: where it is and its manifest. */
public record BackupInfo(String id, Path directory, BackupManifest manifest) {
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
