package io.pgbackup.core.internal.verify;

import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.incremental.ParentFiles;
import io.pgbackup.core.internal.restore.RestoreChain;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.verify.VerifyReport.VerifyCheck;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A diff or incr restores only with its chain: every ancestor must be in the repository with a
 * manifest that reads, and the links must hold (parents, system identifier, major version, LSNs),
 * as a restore checks them. The parent's file sizes then let the tar check vouch for every block
 * an {@code INCREMENTAL.} entry leaves to older backups.
 */
final class IncrementalChainCheck {
    static final String CHECK_NAME = "chain";

    private IncrementalChainCheck() {
    }

    static VerifyCheck check(Repository repository, BackupInfo backup, BackupFilesChecker files) {
        Instant start = Instant.now();
        Map<String, BackupInfo> found = new HashMap<>();
        for (String id : backup.manifest().chain()) {
            try {
                if (repository.storage().stat(Repository.manifestKey(id)).isEmpty()) {
                    return VerifyCheck.failed(CHECK_NAME, "backup " + id + " of its chain is missing from the repository: this "
                            + backup.manifest().type() + " cannot be restored", BackupFilesChecker.since(start));
                }
                BackupManifest m = DefaultVerifier.readManifest(repository, id, repository.locationOf(Repository.manifestKey(id)));
                found.put(id, new BackupInfo(id, Repository.backupKey(id), repository.locationOf(Repository.backupKey(id)), m));
            } catch (java.io.IOException | PgBackupException e) {
                return VerifyCheck.failed(CHECK_NAME, "backup " + id + " of its chain cannot be read: " + BackupFilesChecker.message(e),
                        BackupFilesChecker.since(start));
            }
        }
        RestoreChain chain;
        try {
            chain = RestoreChain.of(backup, found::get, false);
        } catch (PgBackupException e) {
            return VerifyCheck.failed(CHECK_NAME, e.getMessage().replaceFirst("; nothing was restored.*$", ""), BackupFilesChecker.since(start));
        }
        BackupManifest parent = found.get(backup.manifest().parent()).manifest();
        files.parentSizes(() -> ParentFiles.read(repository, parent));
        return VerifyCheck.passed(CHECK_NAME, chain.members().stream().map(b -> b.id() + " (" + b.manifest().type() + ")")
                .collect(Collectors.joining(" -> ")) + ": every backup present, parents, system identifier and LSNs consistent",
                BackupFilesChecker.since(start));
    }
}
