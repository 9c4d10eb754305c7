package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.util.Optional;

/**
 * Before a command stores objects (backup, the archiver, init writing the scripts): encryption is
 * one explicit step, {@code pgbackup init} with a key, which takes the sealed inventory of the plain
 * objects. So a command without the key is refused once the inventory exists (what it stored plain
 * would be refused as planted by everyone with the key), and a command with the key is refused in
 * a repository of plain objects that was never turned sealed. Reading and cleanup are not affected.
 *
 * <p>Decided by one stat of the inventory; only a refusal looks further, for a sealed backup to name.
 */
public final class PlainWriteGuard {
    private PlainWriteGuard() {
    }

    /** Refuses {@code command} when {@code storage} stores plain (no key) in a repository turned sealed, or seals into one never turned. */
    public static void refuseIfSealed(Storage storage, String command) {
        Storage raw = SealingStorage.rawOf(storage);
        try {
            if (storage instanceof SealingStorage s && s.ring().seals()) {
                if (raw.stat(PlainInventory.KEY).isEmpty() && PlainInventory.holdsPlainData(raw)) {
                    throw new PgBackupException(ErrorCode.REFUSED, command + " refused: " + PlainInventory.notTurnedOn(raw.location()));
                }
                return;
            }
            sealedRetained(raw).ifPresent(example -> {
                throw new PgBackupException(ErrorCode.REFUSED, command + " refused: " + raw.location() + " holds sealed objects ("
                        + example + ") and no encryption key is configured, so this would store plaintext beside them: set "
                        + "PG_BACKUP_ENCRYPTION_KEY_FILE (or _KEY_COMMAND, or _PUBLIC_KEY_FILE) again; to stop encrypting,"
                        + " use a new repository and keep the key until the old one's backups expire");
            });
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot tell whether " + raw.location() + " holds sealed objects: "
                    + e.getClass().getSimpleName() + "; nothing was stored");
        }
    }

    /**
     * The storage {@code init} turns sealed now: one that seals (a key is configured) and has no
     * inventory of plain objects yet; empty when there is nothing to turn on.
     */
    public static Optional<SealingStorage> turningOn(Storage storage) {
        if (!(storage instanceof SealingStorage s) || !s.ring().seals()) {
            return Optional.empty();
        }
        try {
            return s.raw().stat(PlainInventory.KEY).isPresent() ? Optional.empty() : Optional.of(s);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot tell whether encryption is on for " + s.location() + ": "
                    + e.getClass().getSimpleName() + "; nothing was stored");
        }
    }

    /** What shows {@code raw} was turned sealed: a sealed backup when there is one, else the inventory itself. */
    static Optional<String> sealedRetained(Storage raw) throws IOException {
        if (raw.stat(PlainInventory.KEY).isEmpty()) {
            return Optional.empty();
        }
        for (Storage.StoredObject o : raw.list("base/")) {
            if (KeyRing.isKeysetRecord(o.key())) {
                return Optional.of("backup " + o.key().split("/")[1]);
            }
        }
        return Optional.of("the sealed list of its plain objects " + PlainInventory.KEY + ", taken when encryption was turned on");
    }
}
