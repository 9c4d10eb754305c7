package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Encryption cannot be turned off by leaving the key out while the repository retains sealed
 * objects: a command that would store plain objects there (backup, the archiver, init writing a
 * plain-archiving script) is refused with one line. Sealed retained objects: a backup with data
 * keysets ({@code base/<id>/keys/}; cleanup deletes them with their backup), or an archive whose
 * newest segment is sealed. Reading (list, verify, restore's key-less refusal) and cleanup are not
 * affected.
 */
public final class PlainWriteGuard {
    private static final Pattern SEGMENT = Pattern.compile("wal_archive/[0-9A-F]{24}(\\.[a-z0-9]+)?");

    private PlainWriteGuard() {
    }

    /** Refuses {@code command} when {@code storage} stores plain (no key) and holds retained sealed objects. */
    public static void refuseIfSealed(Storage storage, String command) {
        if (storage instanceof SealingStorage s && s.ring().seals()) {
            return;
        }
        Storage raw = SealingStorage.rawOf(storage);
        try {
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

    /** A sealed retained object of {@code raw}, if there is one. */
    static Optional<String> sealedRetained(Storage raw) throws IOException {
        for (Storage.StoredObject o : raw.list("base/")) {
            if (KeyRing.isKeysetRecord(o.key())) {
                return Optional.of("backup " + o.key().split("/")[1]);
            }
        }
        // WAL keysets are never pruned: only a sealed newest segment means sealed WAL is still being relied on.
        if (raw.list("wal_archive/" + KeyRing.KEYS_DIR).isEmpty()) {
            return Optional.empty();
        }
        List<Storage.StoredObject> segments = raw.list("wal_archive/").stream()
                .filter(o -> SEGMENT.matcher(o.key()).matches()).toList();
        if (segments.isEmpty()) {
            return Optional.empty();
        }
        String newest = segments.get(segments.size() - 1).key();
        try (InputStream in = raw.open(newest)) {
            return SealedFormat.peekRef(in, newest).map(ref -> "WAL segment " + newest);
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        }
    }
}
