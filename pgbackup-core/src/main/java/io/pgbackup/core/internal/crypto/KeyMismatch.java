package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.status.StatusReport;

import java.util.TreeSet;

/**
 * A configured key that opens none of the repository's data keysets (the old key after {@code key
 * rotate}, or a key of another repository): every sealed object, and with the sealed inventory every
 * plain one too, fails to open, and commands would report no backups at all. Asked only after a
 * read failed for that reason, so it costs nothing on the normal path.
 */
public final class KeyMismatch {
    private KeyMismatch() {
    }

    /** Whether {@code failure} (or its cause) is a sealed object wrapped under keys other than the configured one. */
    public static boolean isOtherKey(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SealedFormat.OtherKeyException) {
                return true;
            }
        }
        return false;
    }

    /** Refuses in one line when the configured key wraps none of {@code repository}'s data keysets. */
    public static void refuseIfKeyOpensNothing(Repository repository) {
        StatusReport.EncryptionStatus census = WrapKeyCensus.of(repository);
        if (census.configuredKeyId() == null || census.records() == 0 || census.configuredKeyAmong()) {
            return;
        }
        TreeSet<String> used = new TreeSet<>(census.recordsByWrapKey().keySet());
        throw new PgBackupException(ErrorCode.REFUSED, "the sealed objects of " + repository.location() + " are wrapped under key "
                + String.join(", ", used) + ", not under the configured key " + census.configuredKeyId()
                + " (an old key after 'pgbackup key rotate'?): set PG_BACKUP_ENCRYPTION_KEY_FILE (or _KEY_COMMAND) to the"
                + " repository's current key");
    }
}
