package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.StreamingAead;
import io.pgbackup.core.storage.Storage;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The one place objects are sealed and opened: a {@link Storage} over the real one that seals
 * what it writes (after the codec compressed it) when a key is configured, and opens what it
 * reads by its header, so plain objects of before encryption stay readable. Keys, sizes, listing,
 * deleting and the lease pass through: sizes and SHA-256s in manifests are of the stored
 * (sealed) bytes, checkable without the key.
 *
 * <p>Stored plain, because hosts that hold only the public key must read them: keyset records,
 * the manifest's plain index ({@code pgbackup_index.json}, for list, cleanup and a key-less verify),
 * {@code cluster.json}, {@code restores/} markers and verify's {@code pgbackup_verified.json}. None holds table data.
 */
public final class SealingStorage implements Storage {
    public static final String INDEX_FILE = "pgbackup_index.json";
    private static final String MANIFEST_FILE = "pgbackup_manifest.json";
    /** verify's record of its last outcome: a key-less verify writes it too. */
    private static final String VERIFIED_FILE = "pgbackup_verified.json";

    private final Storage raw;
    private final KeyRing ring;
    private final Map<String, Boolean> sealedScopes = new HashMap<>();
    private final Map<String, Boolean> plainBackups = new HashMap<>();
    private final Object inventoryLock = new Object();
    private boolean inventoryWritten;
    private PlainInventory inventory;
    private final CipherWarmUp.ForOpening openingWarmUp = new CipherWarmUp.ForOpening();

    public SealingStorage(Storage raw, KeyRing ring) {
        this.raw = raw;
        this.ring = ring;
    }

    /** The storage underneath, holding the sealed bytes. */
    public Storage raw() {
        return raw;
    }

    public KeyRing ring() {
        return ring;
    }

    /** Whether this storage has opened enough sealed data to warm the opening path up. */
    boolean openingWarmedUp() {
        return openingWarmUp.started();
    }

    /** {@code storage}'s own bytes, sealed or not: what hashes, copies and {@code instanceof} checks look at. */
    public static Storage rawOf(Storage storage) {
        return storage instanceof SealingStorage s ? s.raw : storage;
    }

    /** Whether {@code key} is stored plain whatever the configuration. */
    public static boolean isAlwaysPlain(String key) {
        String name = key.substring(key.lastIndexOf('/') + 1);
        return KeyRing.isKeysetRecord(key) || name.startsWith(".") || name.equals(INDEX_FILE) || name.equals(VERIFIED_FILE)
                || key.equals("cluster.json") || key.startsWith("restores/");
    }

    private boolean seals(String key) throws IOException {
        return ring.seals() && !isAlwaysPlain(key) && !inPlainBackup(key);
    }

    /**
     * A complete backup of before encryption stays plain: what is added to it later (verify's
     * record) is stored plain too, else its keyset would make its plain files look planted.
     */
    private boolean inPlainBackup(String key) throws IOException {
        String scope = KeyRing.scopeOf(key);
        if (!scope.startsWith("base/")) {
            return false;
        }
        synchronized (plainBackups) {
            Boolean known = plainBackups.get(scope);
            if (known == null) {
                known = raw.stat(scope + MANIFEST_FILE).isPresent() && raw.list(scope + KeyRing.KEYS_DIR).isEmpty();
                if (known) {
                    plainBackups.put(scope, true);
                }
            }
            return known;
        }
    }

    @Override
    public String location() {
        return raw.location();
    }

    @Override
    public List<StoredObject> list(String prefix) throws IOException {
        return raw.list(prefix);
    }

    @Override
    public Optional<StoredObject> stat(String key) throws IOException {
        return raw.stat(key);
    }

    @Override
    public InputStream open(String key) throws IOException {
        if (key.endsWith("/" + MANIFEST_FILE) && !ring.canOpen()) {
            // Without the private key, a sealed manifest is read through its plain index (not authenticated).
            InputStream in = new BufferedInputStream(raw.open(key), 64 * 1024);
            if (isSealed(in)) {
                in.close();
                String index = key.substring(0, key.length() - MANIFEST_FILE.length()) + INDEX_FILE;
                return raw.open(index);
            }
            return in;
        }
        return unseal(key, raw.open(key));
    }

    /**
     * Opens {@code stored}, the bytes of the object under {@code key} as stored: its plain bytes
     * if it is sealed (authenticated as they are read), else itself.
     */
    public InputStream unseal(String key, InputStream stored) throws IOException {
        // Only our own buffer is marked and reset: a caller's stream may count or hash what passes through it.
        InputStream in = stored.getClass() == BufferedInputStream.class ? stored : new BufferedInputStream(stored, 64 * 1024);
        try {
            if (!isSealed(in)) {
                requirePlainAllowed(key);
                requireInventoried(key);
                return in;
            }
            in.skipNBytes(SealedFormat.MAGIC.length);
            String recordKey = SealedFormat.readRef(in, key);
            StreamingAead aead = ring.open(recordKey, key);
            SealedStreams.RawTracking tracked = new SealedStreams.RawTracking(in);
            InputStream plain = aead.newDecryptingStream(tracked, SealedFormat.associatedData(key, recordKey));
            return new SealedStreams.Authenticating(plain, tracked, key, openingWarmUp);
        } catch (GeneralSecurityException e) {
            in.close();
            throw new SealedFormat.AuthenticationException(key + " cannot be opened: " + e.getClass().getSimpleName());
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    private static boolean isSealed(InputStream in) throws IOException {
        in.mark(SealedFormat.MAGIC.length);
        byte[] head = in.readNBytes(SealedFormat.MAGIC.length);
        in.reset();
        return SealedFormat.isSealed(head, head.length);
    }

    /** A plain object inside a backup whose other objects are sealed is not of before encryption: someone put it there. */
    private void requirePlainAllowed(String key) throws IOException {
        if (!ring.seals() || isAlwaysPlain(key)) {
            return;
        }
        String scope = KeyRing.scopeOf(key);
        if (!scope.startsWith("base/")) {
            return;
        }
        boolean sealed;
        synchronized (sealedScopes) {
            Boolean known = sealedScopes.get(scope);
            if (known == null) {
                known = !raw.list(scope + KeyRing.KEYS_DIR).isEmpty();
                sealedScopes.put(scope, known);
            }
            sealed = known;
        }
        if (sealed) {
            throw new SealedFormat.AuthenticationException(key + " is plain in a backup whose objects are sealed:"
                    + " it was replaced by someone without the key; refused");
        }
    }

    /** With the key: a plain object must be one the sealed inventory lists as there before encryption began. */
    private void requireInventoried(String key) throws IOException {
        if (!ring.canOpen() || isAlwaysPlain(key) || key.equals(PlainInventory.KEY)) {
            return;
        }
        Optional<PlainInventory> listed = plainInventory();
        Optional<String> why = listed.isPresent() ? listed.get().reject(raw, key) : Optional.empty();
        if (why.isPresent()) {
            throw new SealedFormat.AuthenticationException(why.get());
        }
    }

    /** Empty while nothing was ever sealed here: then every plain object is of before encryption. */
    private Optional<PlainInventory> plainInventory() throws IOException {
        synchronized (inventoryLock) {
            if (inventory == null) {
                if (raw.stat(PlainInventory.KEY).isPresent()) {
                    try (InputStream in = open(PlainInventory.KEY)) {
                        inventory = PlainInventory.parse(in.readAllBytes());
                    }
                } else if (!raw.list("wal_archive/" + KeyRing.KEYS_DIR).isEmpty()) {
                    throw new SealedFormat.AuthenticationException(PlainInventory.KEY + " is missing from a repository"
                            + " with sealed objects: plain objects cannot be told from added ones; refused");
                } else {
                    return Optional.empty();
                }
            }
            return Optional.of(inventory);
        }
    }

    /**
     * Before the first sealed write: the repository must have been turned sealed ({@link #takeInventory},
     * which {@code pgbackup init} with a key runs), unless it holds no plain data at all (a new one).
     * A writer never takes the inventory of a repository of plain objects by itself: a plain archiver
     * still running then would store segments the inventory does not list.
     */
    private void ensureInventory() throws IOException {
        synchronized (inventoryLock) {
            if (inventoryWritten) {
                return;
            }
            if (raw.stat(PlainInventory.KEY).isEmpty()) {
                if (PlainInventory.holdsPlainData(raw)) {
                    throw new SealedFormat.NotTurnedOnException(PlainInventory.notTurnedOn(raw.location()));
                }
                writeInventory();
            }
            inventoryWritten = true;
        }
    }

    /**
     * Turns the repository sealed: stores the sealed list of the plain objects it holds now, once
     * (false when it was there already). Run by {@code init} with a key, after stopping the archiver.
     */
    public boolean takeInventory() throws IOException {
        synchronized (inventoryLock) {
            return ring.seals() && raw.stat(PlainInventory.KEY).isEmpty() && writeInventory();
        }
    }

    /** Stores the inventory unless another process stored one first (false then); the caller holds {@code inventoryLock}. */
    private boolean writeInventory() throws IOException {
        byte[] snapshot = PlainInventory.snapshot(raw);
        try (ObjectWriter writer = createSealed(PlainInventory.KEY, WriteMode.CREATE_NEW, UnaryOperator.identity())) {
            writer.stream().write(snapshot);
            writer.commit();
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // Another process took it first: its inventory stands.
            return false;
        }
    }

    /**
     * Makes now what the first sealed write under {@code key}'s scope would make (the inventory of a new
     * repository, this process's keyset record for the scope), so that the write does not wait for it.
     * A failure is left to that write, which reports it in its own words.
     */
    public void prepareWriting(String key) {
        try {
            if (seals(key)) {
                ensureInventory();
                ring.recordForWriting(key);
            }
        } catch (IOException | RuntimeException e) {
            // the first real write fails the same way and says why
        }
    }

    @Override
    public ObjectWriter create(String key, WriteMode mode) throws IOException {
        return create(key, mode, UnaryOperator.identity());
    }

    /** As {@link #create(String, WriteMode)}, with {@code storedTap} seeing the bytes as stored (sealed). */
    public ObjectWriter create(String key, WriteMode mode, UnaryOperator<OutputStream> storedTap) throws IOException {
        if (!seals(key)) {
            ObjectWriter writer = raw.create(key, mode);
            OutputStream tapped = storedTap.apply(io.pgbackup.core.internal.storage.NonClosing.output(writer.stream()));
            return new SealedStreams.SealedWriter(writer, tapped);
        }
        ensureInventory();
        return createSealed(key, mode, storedTap);
    }

    private ObjectWriter createSealed(String key, WriteMode mode, UnaryOperator<OutputStream> storedTap) throws IOException {
        String recordKey = ring.recordForWriting(key);
        ObjectWriter writer = raw.create(key, mode);
        try {
            OutputStream tapped = storedTap.apply(io.pgbackup.core.internal.storage.NonClosing.output(writer.stream()));
            SealedFormat.writeHeader(tapped, recordKey);
            OutputStream sealed = ring.cipher(recordKey).newEncryptingStream(tapped, SealedFormat.associatedData(key, recordKey));
            return new SealedStreams.SealedWriter(writer, sealed);
        } catch (GeneralSecurityException e) {
            writer.close();
            throw new IOException("cannot seal " + key + ": " + e.getClass().getSimpleName());
        } catch (IOException | RuntimeException e) {
            writer.close();
            throw e;
        }
    }

    @Override
    public void write(String key, byte[] content, WriteMode mode) throws IOException {
        if (seals(key) && key.endsWith("/" + MANIFEST_FILE)) {
            // The plain index first: the sealed manifest, written last, still marks the backup complete.
            raw.write(key.substring(0, key.length() - MANIFEST_FILE.length()) + INDEX_FILE, content, WriteMode.REPLACE);
        }
        Storage.super.write(key, content, mode);
    }

    @Override
    public boolean delete(String key) throws IOException {
        return raw.delete(key);
    }

    @Override
    public int deleteAll(Collection<String> keys) throws IOException {
        return raw.deleteAll(keys);
    }

    @Override
    public int cleanupIncompleteUploads(java.time.Duration olderThan) throws IOException {
        return raw.cleanupIncompleteUploads(olderThan);
    }

    @Override
    public Lease acquireLease(String holder) throws IOException {
        return raw.acquireLease(holder);
    }
}
