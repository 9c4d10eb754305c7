package io.pgbackup.core.internal.backup;

import io.pgbackup.core.backup.BackupScan.UnreadableBackup;

import io.pgbackup.core.backup.BackupManifest;

import io.pgbackup.core.backup.BackupScan;

import io.pgbackup.core.backup.BackupInfo;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What backups the repository holds, read from their manifests: list, scan (naming the ones whose
 * manifest cannot be read), get, and the check that a repository holds one cluster only. Restore,
 * retention, status and verify read backups here (through {@link BackupManager}); the engine that
 * takes a backup is elsewhere.
 */
final class BackupCatalog {
    private static final Logger log = LoggerFactory.getLogger(BackupCatalog.class);

    private final Repository repository;
    private final ManifestCodec codec = new ManifestCodec();

    BackupCatalog(Repository repository) {
        this.repository = repository;
    }

    List<BackupInfo> list() {
        BackupScan scan = scan();
        scan.unreadable().forEach(u -> log.warn("skipping backup {}: {} (run 'pgbackup verify {}')", u.id(), u.reason(), u.id()));
        return scan.backups();
    }

    /** Every complete backup (its manifest exists), oldest first, split into readable and not. */
    BackupScan scan() {
        List<BackupInfo> backups = new ArrayList<>();
        List<UnreadableBackup> unreadable = new ArrayList<>();
        boolean keyChecked = false;
        for (Map.Entry<String, List<Storage.StoredObject>> e : repository.listBase().complete().entrySet()) {
            String id = e.getKey();
            String key = Repository.backupKey(id);
            String location = repository.locationOf(key);
            try {
                BackupManifest manifest = read(id);
                if (!id.equals(manifest.id())) {
                    unreadable.add(new UnreadableBackup(id, location, "its manifest describes backup "
                            + manifest.id() + " (a directory renamed or copied over?)"));
                    continue;
                }
                backups.add(new BackupInfo(id, key, location, manifest));
            } catch (PgBackupException ex) {
                // A key that opens none of the repository's keysets would list no backup at all: say so instead.
                if (!keyChecked && io.pgbackup.core.internal.crypto.KeyMismatch.isOtherKey(ex)) {
                    keyChecked = true;
                    io.pgbackup.core.internal.crypto.KeyMismatch.refuseIfKeyOpensNothing(repository);
                }
                unreadable.add(new UnreadableBackup(id, location, ex.getMessage()));
            }
        }
        return new BackupScan(backups, unreadable);
    }

    BackupManifest read(String id) {
        String key = Repository.manifestKey(id);
        try {
            return codec.read(repository.storage().read(key), repository.locationOf(key));
        } catch (IOException e) {
            throw Repository.ioFailure("cannot read " + repository.locationOf(key), e);
        }
    }

    BackupInfo get(String id) {
        Repository.backupKey(id); // refuses a malformed id with the expected form
        BackupScan scan = scan();
        List<BackupInfo> all = scan.backups();
        // A backup whose manifest does not read (altered, failed authentication) is named with the reason.
        scan.unreadable().stream().filter(u -> u.id().equals(id)).findFirst().ifPresent(u -> {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, "backup " + id + " cannot be used: " + u.reason());
        });
        return all.stream().filter(b -> b.id().equals(id)).findFirst().orElseThrow(() ->
                new PgBackupException(ErrorCode.INVALID_ARGUMENT, "no backup '" + id + "' in "
                        + repository.locationOf("base") + (all.isEmpty() ? ": there are no backups yet (run 'pgbackup backup')"
                        : ": existing backups are " + all.stream().map(BackupInfo::id).collect(Collectors.joining(", ")))));
    }

    /** One repository holds one cluster's backups: WAL and backups of two clusters must never mix. */
    void refuseForeignCluster(String systemIdentifier) {
        for (BackupInfo backup : list()) {
            if (!backup.manifest().systemIdentifier().equals(systemIdentifier)) {
                throw new PgBackupException(ErrorCode.REPOSITORY_CONFLICT, repository.location()
                        + " holds backups of another cluster (system identifier "
                        + backup.manifest().systemIdentifier() + ", this server is " + systemIdentifier
                        + "): point PG_BACKUP_DIR at a repository of this cluster or an empty directory");
            }
        }
    }
}
