package io.pgbackup.core.internal.crypto;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The sealed list of the plain objects a repository held when encryption first sealed something
 * in it. With the key, a plain object is accepted only if it is listed here with its size (and, for a
 * backup's {@code pgbackup_manifest.json}, its SHA-256, which in turn pins every file of that backup):
 * someone with write access but no key cannot slip a plain backup or WAL segment in later, and a
 * repository sealed from the start accepts no plain object at all.
 *
 * <p>WAL (segments, history and .backup files) is pinned by SHA-256 too: taking the inventory (once,
 * when init turns encryption on) reads the plain archive once, and reading a listed plain WAL file with
 * the key reads it twice (hash, then content); so a same-size replacement is refused as well.
 * Inventories taken before this pin WAL by size only and stay valid.
 */
public final class PlainInventory {
    /** Nested under wal_archive/ so the WAL listing ignores it; copies (S3 sync, rsync) carry it with the WAL. */
    public static final String KEY = "wal_archive/inventory/plain_inventory.json";
    static final String FORMAT = "pgbackup-plain-inventory-1";
    private static final String MANIFEST = "/pgbackup_manifest.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    record Entry(long size, String sha256) {
    }

    record Document(String format, Map<String, Entry> objects) {
    }

    private final Map<String, Entry> objects;

    private PlainInventory(Map<String, Entry> objects) {
        this.objects = objects;
    }

    /** Lists what {@code raw} holds now (keyset records and always-plain metadata aside). */
    static byte[] snapshot(Storage raw) throws IOException {
        Map<String, Entry> objects = new TreeMap<>();
        for (Storage.StoredObject o : raw.list("")) {
            String key = o.key();
            if (key.equals(KEY) || SealingStorage.isAlwaysPlain(key)) {
                continue;
            }
            objects.put(key, new Entry(o.size(), pinned(key) ? sha256(raw, key) : null));
        }
        return JSON.writeValueAsBytes(new Document(FORMAT, objects));
    }

    /** Whether {@code raw} holds backups or WAL (keyset records and always-plain metadata aside): not a new repository. */
    static boolean holdsPlainData(Storage raw) throws IOException {
        for (String prefix : List.of("base/", "wal_archive/")) {
            for (Storage.StoredObject o : raw.list(prefix)) {
                if (!o.key().equals(KEY) && !SealingStorage.isAlwaysPlain(o.key())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The one line refusing a sealed write into a repository of plain objects that init did not turn sealed. */
    static String notTurnedOn(String location) {
        return location + " holds plain backups or WAL and encryption was not turned on for it: run 'pgbackup init' with"
                + " the key configured (it stops the archiver, lists the plain objects, then rewrites the scripts), then"
                + " run this again";
    }

    /** What is pinned by content: manifests (which pin their backup's files) and the WAL archive's files. */
    private static boolean pinned(String key) {
        return key.endsWith(MANIFEST) || key.startsWith("wal_archive/");
    }

    static PlainInventory parse(byte[] json) throws IOException {
        Document doc = JSON.readValue(json, Document.class);
        if (!FORMAT.equals(doc.format()) || doc.objects() == null) {
            throw new SealedFormat.AuthenticationException(KEY + " is not a plain inventory; refused");
        }
        return new PlainInventory(Map.copyOf(doc.objects()));
    }

    /** Why the plain object {@code key} is not one of before encryption, or empty if it is. */
    Optional<String> reject(Storage raw, String key) throws IOException {
        Entry entry = objects.get(key);
        if (entry == null) {
            return Optional.of(key + " is plain but the repository's objects are sealed and it is not among the plain"
                    + " objects of before encryption (" + KEY + "): someone without the key added it; refused");
        }
        Optional<Storage.StoredObject> now = raw.stat(key);
        if (now.isPresent() && now.get().size() != entry.size()) {
            return Optional.of(key + " is plain and differs in size from the plain object of before encryption: it was"
                    + " replaced by someone without the key; refused");
        }
        if (entry.sha256() != null && !entry.sha256().equals(sha256(raw, key))) {
            return Optional.of(key + " is plain and differs from the " + (key.endsWith(MANIFEST) ? "manifest" : "object")
                    + " of before encryption: it was replaced by someone without the key; refused");
        }
        return Optional.empty();
    }

    private static String sha256(Storage raw, String key) throws IOException {
        try (InputStream in = raw.open(key)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
