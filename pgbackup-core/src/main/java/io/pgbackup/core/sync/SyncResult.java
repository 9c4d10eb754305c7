package io.pgbackup.core.sync;

import java.time.Duration;
import java.util.List;

/**
 * What a sync copied (or, in a dry run, would copy).
 *
 * @param target           {@code user@host:dir}
 * @param files            repository-relative paths copied, in order
 * @param bytesTransferred total size of those files (rsync's delta transfer may send fewer bytes over the wire)
 */
public record SyncResult(String target, boolean dryRun, List<String> files, long bytesTransferred, Duration duration) {
    public SyncResult {
        files = List.copyOf(files);
    }

    @com.fasterxml.jackson.annotation.JsonProperty("filesTransferred")
    public int filesTransferred() {
        return files.size();
    }
}
