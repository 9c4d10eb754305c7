package io.pgbackup.core.backup;

/** Takes base backups with pg_basebackup and lists the repository's backups. */
public interface BackupManager {
}
