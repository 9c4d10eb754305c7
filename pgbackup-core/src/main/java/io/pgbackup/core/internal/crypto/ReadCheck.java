package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.storage.Repository;

import java.io.IOException;

/**
 * Before a command that reads a backup back writes anything (restore, verify's restore test):
 * when the backup or the WAL archive holds sealed objects and this host cannot open them (no key,
 * or only the public key), one line says so, instead of a failure halfway through.
 */
public final class ReadCheck {
    private ReadCheck() {
    }

    /** Whether the object under {@code key} is sealed and this host cannot open it (verify then checks size and SHA-256 only). */
    public static boolean sealedWithoutKey(Repository repository, String key) throws IOException {
        if (!(repository.storage() instanceof SealingStorage sealing) || sealing.ring().canOpen()) {
            return false;
        }
        try (var in = sealing.raw().open(key)) {
            return SealedFormat.peekRef(in, key).isPresent();
        }
    }

    /**
     * Refuses {@code command} when {@code backup}, or the WAL a restore of it replays, is sealed and
     * this host cannot open it. The WAL is decided by the header of the first segment the restore
     * needs after the backup (else the backup's last one), found through {@code archive}, whose
     * listing of that log the plan then reuses: no listing of the archive's keysets.
     */
    public static void requireOpenable(Repository repository, io.pgbackup.core.backup.BackupInfo backup,
                                       io.pgbackup.core.internal.archive.WalArchive archive, String command) {
        if (!(repository.storage() instanceof SealingStorage sealing) || sealing.ring().canOpen()) {
            return;
        }
        String backupId = backup.id();
        String backupScope = Repository.backupKey(backupId) + "/";
        try {
            boolean backupSealed = !sealing.raw().list(backupScope + KeyRing.KEYS_DIR).isEmpty();
            boolean walSealed = !backupSealed && firstWalSealed(sealing, backup, archive);
            if (backupSealed || walSealed) {
                throw new PgBackupException(ErrorCode.REFUSED, command + " cannot read " + (backupSealed ? "backup " + backupId
                        : "the WAL archive") + ": it is sealed and this host " + (sealing.ring().seals()
                        ? "has only the public key (PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE); run it where PG_BACKUP_ENCRYPTION_KEY_FILE"
                        + " or PG_BACKUP_ENCRYPTION_KEY_COMMAND gives the private key"
                        : "has no key: set PG_BACKUP_ENCRYPTION_KEY_FILE or PG_BACKUP_ENCRYPTION_KEY_COMMAND")
                        + "; nothing was written");
            }
        } catch (IOException e) {
            throw Repository.ioFailure("cannot read " + repository.locationOf(backupScope), e);
        }
    }

    private static boolean firstWalSealed(SealingStorage sealing, io.pgbackup.core.backup.BackupInfo backup,
                                          io.pgbackup.core.internal.archive.WalArchive archive) throws IOException {
        var m = backup.manifest();
        var stop = io.pgbackup.core.internal.archive.WalSegmentName.parse(m.stopWalFile(), m.walSegmentSize());
        if (stop.isEmpty()) {
            return false;
        }
        var entry = archive.find(stop.get().next().fileName()).or(() -> archive.find(stop.get().fileName()));
        if (entry.isEmpty()) {
            return false;
        }
        try (var in = sealing.raw().open(entry.get().key())) {
            return SealedFormat.peekRef(in, entry.get().key()).isPresent();
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }
}
