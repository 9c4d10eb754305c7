package io.pgbackup.core.internal.incremental;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredName;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/** The parent's size of each file: its {@code pgbackup_files.json}, else its {@code backup_manifest} (a full's). */
public final class ParentFiles {
    private ParentFiles() {
    }

    public static Map<String, Long> read(Repository repository, BackupManifest parent) {
        String name = parent.fileList() != null ? parent.fileList() : "backup_manifest";
        String key = Repository.backupFileKey(parent.id(), name);
        try (InputStream raw = repository.storage().open(key);
             InputStream in = StoredName.parse(name).compression().decompress(raw)) {
            return parent.fileList() != null ? FileListing.read(in) : FileListing.readPostgresManifest(in);
        } catch (IOException | RuntimeException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot read the file list of the parent backup " + parent.id()
                    + " (" + repository.locationOf(key) + "): " + e.getMessage() + "; take a full backup (--type full)", e);
        }
    }
}
