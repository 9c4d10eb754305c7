package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.crypto.Encryption;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Storage;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** {@code pgbackup key rotate}: the repository's and the configured bucket's keyset records, under the repository's lease. */
final class Rotator {
    static final String NEW_KEY_OPTION = "--new-key-file";

    private Rotator() {
    }

    static Encryption.Rotation rotate(Repository repository, Optional<Storage> bucket, Clock clock, Path newKeyFile, boolean dryRun) {
        WrapKey oldKey = configuredKey(repository).orElseThrow(() -> new PgBackupException(ErrorCode.INVALID_CONFIG,
                "key rotate needs the current key: set PG_BACKUP_ENCRYPTION_KEY_FILE (or _KEY_COMMAND) to it, and give the new"
                        + " one with " + NEW_KEY_OPTION));
        WrapKey newKey = WrapKeys.loadPrivateFile(newKeyFile, NEW_KEY_OPTION);
        KeyRotation rotation = new KeyRotation(oldKey, newKey);
        List<Storage> storages = new ArrayList<>(List.of(repository.storage()));
        Optional<Storage> otherBucket = bucket.filter(b -> SealingStorage.rawOf(b) != repository.rawStorage());
        otherBucket.ifPresent(storages::add);
        if (dryRun) {
            return report(rotation.plan(storages), 0, true);
        }
        // The leases keep cleanup (and a second rotate) from deleting or rewriting a record this is about to write back:
        // the repository's, and the bucket's (S3Lease) where the bucket is not the repository itself.
        try (Storage.Lease ignored = repository.lease("key rotate", clock);
             Storage.Lease bucketLease = otherBucket.isPresent() ? bucketLease(otherBucket.get(), clock) : null) {
            KeyRotation.Plan plan = rotation.plan(storages);
            return report(plan, rotation.execute(plan), false);
        }
    }

    /** The bucket's lease, as cleanup takes it in a bucket, or one line naming its holder. */
    private static Storage.Lease bucketLease(Storage bucket, Clock clock) {
        String holder = "key rotate, pid " + ProcessHandle.current().pid() + ", since " + clock.instant();
        try {
            return bucket.acquireLease(holder);
        } catch (Storage.LeaseHeldException e) {
            throw new PgBackupException(ErrorCode.LOCKED, "another pgbackup command holds the lock on " + bucket.location()
                    + (e.holder().isEmpty() ? "" : " (" + e.holder() + ")") + ": wait for it to finish, then run key rotate again;"
                    + " nothing was changed");
        } catch (java.io.IOException e) {
            throw Repository.ioFailure("cannot lock " + bucket.location(), e);
        }
    }

    static Optional<WrapKey> configuredKey(Repository repository) {
        return repository.storage() instanceof SealingStorage s ? s.ring().wrapKey() : Optional.empty();
    }

    private static Encryption.Rotation report(KeyRotation.Plan plan, int rewritten, boolean dryRun) {
        List<Encryption.KeysetRecordPlan> records = plan.items().stream().map(i -> new Encryption.KeysetRecordPlan(i.where(),
                i.wrapKeyIds(), i.step().name().toLowerCase(Locale.ROOT).replace('_', '-'))).toList();
        return new Encryption.Rotation(plan.oldKeyId(), plan.newKeyId(), records, rewritten, dryRun);
    }
}
