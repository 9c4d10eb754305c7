package io.pgbackup.core.backup;

import java.util.List;
import java.util.Optional;

/** Takes base backups with pg_basebackup and lists the repository's backups. */
public interface BackupManager {
    /**
     * Takes a base backup. It appears in {@link #list()} only once complete: a failed or
     * interrupted backup leaves nothing behind in {@code base/}.
     */
    BackupInfo backup(BackupOptions options);

    /**
     * What {@link #backup} would take with these options (type, parent, chain, and why), read from
     * the repository and the server; changes nothing.
     */
    default BackupPlan plan(BackupOptions options) {
        return new BackupPlan(BackupManifest.FULL, options.type().cliName(), null, List.of(),
                "this backup manager takes full backups only");
    }

    /** Complete backups, oldest first; a directory whose manifest cannot be read is left out, with a warning. */
    List<BackupInfo> list();

    /** Every backup directory, oldest first: the complete backups and those whose manifest cannot be read. */
    BackupScan scan();

    /** The backup with this id, or a usage error naming the ids that exist. */
    BackupInfo get(String id);

    /** The newest complete backup, if any. */
    default Optional<BackupInfo> latest() {
        List<BackupInfo> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }
}
