package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.StreamingAead;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The data keysets of one repository, for one process: makes a fresh one per scope the first
 * time this process seals there (a backup: {@code base/<id>/}; everything else: a batch under
 * {@code wal_archive/}, renewed each UTC day), and opens stored ones with the wrap key. Keyset
 * records are stored plain beside what they seal; their secret part exists only wrapped.
 */
public final class KeyRing {
    /** Where the records of a scope live: {@code <scope>keys/<yyyyMMdd'T'HHmmss'Z'>-<8 hex>.json}. */
    public static final String KEYS_DIR = "keys/";
    private static final Pattern BACKUP_SCOPE = Pattern.compile("(base/\\d{8}_\\d{6}/).+");
    private static final String BATCH_SCOPE = "wal_archive/";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC);

    private final Storage raw;
    private final Optional<WrapKey> wrapKey;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, String> writingByScope = new HashMap<>();
    private final Map<String, StreamingAead> opened = new HashMap<>();

    public KeyRing(Storage raw, Optional<WrapKey> wrapKey, Clock clock) {
        // No Tink registration here: a repository without encryption never loads it (wal-fetch starts a JVM per file).
        this.raw = raw;
        this.wrapKey = wrapKey;
        this.clock = clock;
    }

    /** A ring with the same key and clock, for the keysets of another storage (each storage keeps its own). */
    public KeyRing forStorage(Storage other) {
        return new KeyRing(other, wrapKey, clock);
    }

    public Optional<WrapKey> wrapKey() {
        return wrapKey;
    }

    /** Whether new objects are sealed. */
    public boolean seals() {
        return wrapKey.isPresent();
    }

    /** Whether sealed objects can be opened here. */
    public boolean canOpen() {
        return wrapKey.map(WrapKey::canUnwrap).orElse(false);
    }

    /** The scope an object belongs to: its backup's prefix, else the batch prefix. */
    public static String scopeOf(String objectKey) {
        var m = BACKUP_SCOPE.matcher(objectKey);
        return m.matches() ? m.group(1) : BATCH_SCOPE;
    }

    /** Whether {@code key} is a keyset record (stored plain: it holds only wrapped secrets). */
    public static boolean isKeysetRecord(String key) {
        return key.startsWith(scopeOf(key) + KEYS_DIR);
    }

    /** The keyset record this process seals {@code objectKey} with, made and stored now if it has none yet. */
    synchronized String recordForWriting(String objectKey) throws IOException {
        String scope = scopeOf(objectKey);
        String slot = scope.equals(BATCH_SCOPE) ? scope + DAY.format(clock.instant()) : scope;
        String existing = writingByScope.get(slot);
        if (existing != null) {
            return existing;
        }
        WrapKey key = wrapKey.orElseThrow();
        TinkSetup.register();
        byte[] suffix = new byte[4];
        random.nextBytes(suffix);
        String recordKey = scope + KEYS_DIR + STAMP.format(clock.instant()) + "-" + HexFormat.of().formatHex(suffix) + ".json";
        try {
            KeysetHandle handle = KeysetHandle.generateNew(TinkSetup.DATA_PARAMETERS);
            byte[] secret = TinkProtoKeysetFormat.serializeKeyset(handle, InsecureSecretKeyAccess.get());
            byte[] wrapped = key.wrap(secret, KeysetRecord.wrapContext(recordKey));
            java.util.Arrays.fill(secret, (byte) 0);
            KeysetRecord record = new KeysetRecord(KeysetRecord.FORMAT, clock.instant().toString(),
                    List.of(new KeysetRecord.Wrap(key.id(), Base64.getEncoder().encodeToString(wrapped))));
            raw.write(recordKey, record.toJson(), Storage.WriteMode.CREATE_NEW);
            opened.put(recordKey, handle.getPrimitive(RegistryConfiguration.get(), StreamingAead.class));
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make a data key: " + e.getClass().getSimpleName());
        }
        writingByScope.put(slot, recordKey);
        return recordKey;
    }

    /** The streaming AEAD of a keyset this process made or has opened. */
    synchronized StreamingAead cipher(String recordKey) {
        return opened.get(recordKey);
    }

    /** Opens the keyset record {@code recordKey} that {@code objectKey}'s header names. */
    synchronized StreamingAead open(String recordKey, String objectKey) throws IOException {
        if (!recordKey.startsWith(scopeOf(objectKey) + KEYS_DIR) || recordKey.contains("..")) {
            throw new SealedFormat.AuthenticationException(objectKey + " names keyset " + recordKey
                    + ", which is not one of its own scope's: the object was moved or altered");
        }
        // Checked before the cache: a public-key host does not read back even what it sealed itself.
        if (!canOpen()) {
            throw new SealedFormat.NoKeyException(objectKey + " is sealed and this host cannot open it: "
                    + (wrapKey.isPresent() ? "it has only the public key (PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE); run this where "
                    + "PG_BACKUP_ENCRYPTION_KEY_FILE or PG_BACKUP_ENCRYPTION_KEY_COMMAND gives the private key"
                    : "set PG_BACKUP_ENCRYPTION_KEY_FILE or PG_BACKUP_ENCRYPTION_KEY_COMMAND to the key it was sealed with"));
        }
        StreamingAead known = opened.get(recordKey);
        if (known != null) {
            return known;
        }
        WrapKey key = wrapKey.get();
        TinkSetup.register();
        byte[] json;
        try {
            json = raw.read(recordKey);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new SealedFormat.AuthenticationException(objectKey + " needs data keyset " + recordKey + ", which is missing");
        }
        KeysetRecord record = KeysetRecord.parse(json, recordKey);
        KeysetRecord.Wrap wrap = record.wraps().stream().filter(w -> w.wrapKeyId().equals(key.id())).findFirst()
                .orElseThrow(() -> new SealedFormat.OtherKeyException(objectKey + " was sealed under key " + String.join(", ",
                        record.wrapKeyIds()) + " (" + recordKey + "), not under the configured key " + key.id()
                        + ": configure the key it was sealed with"));
        try {
            byte[] secret = key.unwrap(Base64.getDecoder().decode(wrap.wrapped()), KeysetRecord.wrapContext(recordKey));
            KeysetHandle handle = TinkProtoKeysetFormat.parseKeyset(secret, InsecureSecretKeyAccess.get());
            java.util.Arrays.fill(secret, (byte) 0);
            StreamingAead aead = handle.getPrimitive(RegistryConfiguration.get(), StreamingAead.class);
            opened.put(recordKey, aead);
            return aead;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new SealedFormat.AuthenticationException("data keyset " + recordKey + " (for " + objectKey
                    + ") does not open with key " + key.id() + ": it was altered or copied from elsewhere");
        }
    }
}
