package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which WAL keyset records ({@code wal_archive/keys/*.json}) cleanup may drop: those no sealed
 * object it keeps under {@code wal_archive/} names in its header (one small read per kept object,
 * only in a repository that has such records).
 */
public final class WalKeysets {
    private static final String WAL_PREFIX = "wal_archive/";
    private static final String RECORDS = WAL_PREFIX + KeyRing.KEYS_DIR;
    /**
     * A running archiver seals with the record it made for the UTC day until the day ends, possibly
     * before it has stored anything: a record younger than this is never dropped.
     */
    public static final Duration MIN_AGE = Duration.ofDays(2);

    private WalKeysets() {
    }

    /** The records under {@code wal_archive/keys/} older than {@link #MIN_AGE} that no object kept (all but {@code deleted}) names. */
    public static List<Storage.StoredObject> unreferenced(Storage raw, Set<String> deleted, Instant now) throws IOException {
        List<Storage.StoredObject> records = raw.list(RECORDS);
        if (records.isEmpty()) {
            return List.of();
        }
        Set<String> named = new HashSet<>();
        for (Storage.StoredObject o : raw.list(WAL_PREFIX)) {
            if (o.key().startsWith(RECORDS) || deleted.contains(o.key())) {
                continue;
            }
            try (InputStream in = raw.open(o.key())) {
                SealedFormat.peekRef(in, o.key()).ifPresent(named::add);
            } catch (NoSuchFileException e) {
                // Gone since the listing (an archive call's temporary file renamed).
            }
        }
        List<Storage.StoredObject> unused = new ArrayList<>();
        for (Storage.StoredObject r : records) {
            if (!named.contains(r.key()) && Duration.between(r.lastModified(), now).compareTo(MIN_AGE) > 0) {
                unused.add(r);
            }
        }
        return unused;
    }
}
