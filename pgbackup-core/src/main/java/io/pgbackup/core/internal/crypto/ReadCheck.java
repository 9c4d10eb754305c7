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

    public static void requireOpenable(Repository repository, String backupId, String command) {
        if (!(repository.storage() instanceof SealingStorage sealing) || sealing.ring().canOpen()) {
            return;
        }
        String backupScope = Repository.backupKey(backupId) + "/";
        try {
            boolean backupSealed = !sealing.raw().list(backupScope + KeyRing.KEYS_DIR).isEmpty();
            boolean walSealed = !sealing.raw().list(Repository.WAL_PREFIX + KeyRing.KEYS_DIR).isEmpty();
            if (backupSealed || walSealed) {
                throw new PgBackupException(ErrorCode.REFUSED, command + " cannot read " + (backupSealed ? "backup " + backupId
                        : "the WAL archive") + ": it is sealed and this host " + (sealing.ring().seals()
                        ? "has only the public key (PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE); run it where PG_BACKUP_ENCRYPTION_KEY_FILE"
                        + " or PG_BACKUP_ENCRYPTION_KEY_COMMAND gives the private key"
                        : "has no key: set PG_BACKUP_ENCRYPTION_KEY_FILE or PG_BACKUP_ENCRYPTION_KEY_COMMAND")
                        + "; nothing was written");
            }
        } catch (IOException e) {
            throw Repository.ioFailure("cannot list " + repository.locationOf(backupScope), e);
        }
    }
}
