package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Re-wraps data keysets under a new wrap key; the data they seal is never touched. Two passes
 * over every keyset record: first each record gets a wrap under the new key (checked to open to
 * the same keyset) and is replaced whole; only then are the other wraps dropped. Every record
 * opens with the old key or the new one at every moment, so an interrupted rotation is finished
 * by running it again: the plan of a rerun is what is left.
 */
public final class KeyRotation {
    private final WrapKey oldKey;
    private final WrapKey newKey;

    public KeyRotation(WrapKey oldKey, WrapKey newKey) {
        if (!oldKey.canUnwrap()) {
            throw new PgBackupException(ErrorCode.REFUSED, "the configured key " + oldKey.id() + " is a public key: run key rotate"
                    + " where PG_BACKUP_ENCRYPTION_KEY_FILE or PG_BACKUP_ENCRYPTION_KEY_COMMAND gives the private key");
        }
        if (oldKey.id().equals(newKey.id())) {
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "the new key " + newKey.id() + " is the configured key:"
                    + " give a key made by 'pgbackup key generate --out FILE'");
        }
        this.oldKey = oldKey;
        this.newKey = newKey;
    }

    /** What rotation still does to a record: add the new wrap, drop the others, or nothing. */
    public enum Step { ADD_WRAP, DROP_OLD_WRAPS, DONE }

    /** One keyset record in {@code storage} (stored bytes) and its step. */
    public record Item(Storage storage, String key, List<String> wrapKeyIds, Step step) {
        public String where() {
            return storage.location() + (storage.location().endsWith("/") ? "" : "/") + key;
        }
    }

    /** Every keyset record of the storages, in order; computed before anything changes. */
    public record Plan(String oldKeyId, String newKeyId, List<Item> items) {
        public Plan {
            items = List.copyOf(items);
        }

        public long count(Step step) {
            return items.stream().filter(i -> i.step() == step).count();
        }
    }

    /** The keyset records of {@code storages} (each given as stored, or sealed: its stored bytes are read). */
    public Plan plan(List<Storage> storages) {
        List<Item> items = new ArrayList<>();
        List<String> foreign = new ArrayList<>();
        for (Storage s : storages) {
            Storage raw = SealingStorage.rawOf(s);
            for (String key : recordKeys(raw)) {
                KeysetRecord record = read(raw, key);
                List<String> ids = record.wrapKeyIds();
                Step step = ids.contains(newKey.id()) ? (ids.size() == 1 ? Step.DONE : Step.DROP_OLD_WRAPS)
                        : ids.contains(oldKey.id()) ? Step.ADD_WRAP : null;
                if (step == null) {
                    foreign.add(key + " (key " + String.join(", ", ids) + ")");
                } else {
                    items.add(new Item(raw, key, ids, step));
                }
            }
        }
        if (!foreign.isEmpty()) {
            throw new PgBackupException(ErrorCode.REFUSED, foreign.size() + " keyset record(s) are wrapped neither under the"
                    + " configured key " + oldKey.id() + " nor the new key " + newKey.id() + ", e.g. " + foreign.get(0)
                    + ": configure the key that opens them and rotate that one first; nothing was changed");
        }
        return new Plan(oldKey.id(), newKey.id(), items);
    }

    /** All keyset records stored in {@code raw}: {@code base/<id>/keys/*.json} and {@code wal_archive/keys/*.json}. */
    static List<String> recordKeys(Storage raw) {
        List<String> keys = new ArrayList<>();
        try {
            for (String prefix : List.of("base/", "wal_archive/" + KeyRing.KEYS_DIR)) {
                for (Storage.StoredObject o : raw.list(prefix)) {
                    if (KeyRing.isKeysetRecord(o.key()) && o.key().endsWith(".json") && !o.name().startsWith(".")) {
                        keys.add(o.key());
                    }
                }
            }
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot list the keyset records in " + raw.location() + ": "
                    + e.getClass().getSimpleName() + "; nothing was changed");
        }
        return keys;
    }

    /** Runs both passes over {@code plan}; returns how many records were rewritten. */
    public int execute(Plan plan) {
        int written = 0;
        for (Item item : plan.items()) {
            if (item.step() == Step.ADD_WRAP && addWrap(item)) {
                written++;
            }
        }
        for (Item item : plan.items()) {
            if (item.step() != Step.DONE && dropOldWraps(item)) {
                written++;
            }
        }
        return written;
    }

    /** Adds the new key's wrap (re-read first: another rotation may have done it meanwhile). */
    private boolean addWrap(Item item) {
        KeysetRecord record = read(item.storage(), item.key());
        if (record.wrapKeyIds().contains(newKey.id())) {
            return false;
        }
        byte[] context = KeysetRecord.wrapContext(item.key());
        byte[] secret = unwrap(oldKey, record, item);
        try {
            byte[] wrapped = newKey.wrap(secret, context);
            byte[] check = newKey.unwrap(wrapped, context);
            if (!Arrays.equals(check, secret)) {
                throw new GeneralSecurityException("the new wrap does not open to the same keyset");
            }
            Arrays.fill(check, (byte) 0);
            List<KeysetRecord.Wrap> wraps = new ArrayList<>(record.wraps());
            wraps.add(new KeysetRecord.Wrap(newKey.id(), Base64.getEncoder().encodeToString(wrapped)));
            replace(item, new KeysetRecord(record.format(), record.created(), wraps));
            return true;
        } catch (GeneralSecurityException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot wrap " + item.where() + " under the new key " + newKey.id()
                    + ": " + e.getClass().getSimpleName() + "; the record was left as it was");
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
    }

    /** Keeps only the new key's wrap, once it is proven to open to the keyset the old wrap opens to (when there is one). */
    private boolean dropOldWraps(Item item) {
        KeysetRecord record = read(item.storage(), item.key());
        List<KeysetRecord.Wrap> mine = record.wraps().stream().filter(w -> w.wrapKeyId().equals(newKey.id())).toList();
        if (mine.isEmpty() || record.wraps().size() == mine.size()) {
            return false;
        }
        byte[] fresh = unwrap(newKey, record, item);
        try {
            if (record.wrapKeyIds().contains(oldKey.id())) {
                byte[] old = unwrap(oldKey, record, item);
                boolean same = Arrays.equals(old, fresh);
                Arrays.fill(old, (byte) 0);
                if (!same) {
                    throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, item.where() + ": the wraps under keys "
                            + oldKey.id() + " and " + newKey.id() + " open to different keysets (the record was altered);"
                            + " it was left as it was: restore it from a copy of the repository");
                }
            }
            replace(item, new KeysetRecord(record.format(), record.created(), List.of(mine.get(0))));
            return true;
        } finally {
            Arrays.fill(fresh, (byte) 0);
        }
    }

    private static byte[] unwrap(WrapKey key, KeysetRecord record, Item item) {
        KeysetRecord.Wrap wrap = record.wraps().stream().filter(w -> w.wrapKeyId().equals(key.id())).findFirst()
                .orElseThrow(() -> new PgBackupException(ErrorCode.REFUSED, item.where() + " has no wrap under key " + key.id()
                        + " any more: run key rotate again"));
        try {
            return key.unwrap(Base64.getDecoder().decode(wrap.wrapped()), KeysetRecord.wrapContext(item.key()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, item.where() + " does not open with key " + key.id()
                    + ": it was altered or copied from elsewhere; it was left as it was");
        }
    }

    private static KeysetRecord read(Storage raw, String key) {
        try {
            return KeysetRecord.parse(raw.read(key), key);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot read keyset record " + key + " in " + raw.location() + ": "
                    + (e.getMessage() != null && e.getMessage().startsWith(key) ? e.getMessage() : e.getClass().getSimpleName()));
        }
    }

    /** Replaces the record whole (the storage's write is atomic: temporary file and rename, or one PUT). */
    private static void replace(Item item, KeysetRecord record) {
        try {
            item.storage().write(item.key(), record.toJson(), Storage.WriteMode.REPLACE);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot write " + item.where() + ": " + e.getClass().getSimpleName()
                    + "; run key rotate again to finish (every record still opens with the old key or the new one)");
        }
    }
}
