package io.pgbackup.core.internal.archive;

import io.pgbackup.core.internal.storage.CountingOutputStream;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Stores one WAL file (segment, {@code .history}, {@code .partial}, {@code .backup}) into a
 * repository's {@code wal_archive/}, with archive_wal.sh's rules: an identical copy already there
 * (under any compression suffix) is success, different content is a conflict that leaves the
 * original alone, and the object appears under its final key only complete and durable
 * ({@link Storage.WriteMode#CREATE_NEW}, so a concurrent archiver's copy is compared, never replaced).
 */
public final class SegmentStore {
    /** Level 1 as archive_wal.sh: on WAL it costs a few percent of size for a several-fold speed-up. */
    private static final int FAST_LEVEL = 1;
    private static final int BUFFER = 1 << 20;

    private final Storage storage;
    private final Compression compression;

    public SegmentStore(Storage storage, Compression compression) {
        this.storage = storage;
        this.compression = compression;
    }

    /**
     * The store rules archive_wal.sh shares (rendered into it by {@link ArchiveScripts}): a new file
     * is stored, an identical copy already there is success, different content is a conflict that
     * fails and leaves the archived copy alone. Each with its log result word and script exit code.
     */
    public enum Rule {
        NEW("archived", 0), IDENTICAL("already-archived", 0), CONFLICT("conflict", 1);

        private final String result;
        private final int exitCode;

        Rule(String result, int exitCode) {
            this.result = result;
            this.exitCode = exitCode;
        }

        /** The RESULT word of the log line. */
        public String result() {
            return result;
        }

        /** What archive_wal.sh exits with (0: PostgreSQL may recycle the file). */
        public int exitCode() {
            return exitCode;
        }
    }

    /** What happened to one file. */
    public record Stored(String key, long size, long storedSize, boolean alreadyArchived) {
    }

    /** A file already archived with different content; the archived copy was left as it was. */
    public static final class ConflictException extends IOException {
        public ConflictException(String message) {
            super(message);
        }
    }

    public Stored store(Path source, String name) throws IOException {
        long size = Files.size(source);
        Optional<String> existing = findExisting(name);
        if (existing.isPresent()) {
            return compareExisting(existing.get(), source, name, size);
        }
        String key = Repository.walKey(name + compression.suffix());
        CountingOutputStream counted;
        try (Storage.ObjectWriter writer = storage.create(key, Storage.WriteMode.CREATE_NEW)) {
            counted = new CountingOutputStream(writer.stream());
            OutputStream encoded = compression == Compression.NONE ? counted
                    : compression.compress(counted, Math.max(compression.minLevel(), FAST_LEVEL), 1);
            try (InputStream in = Files.newInputStream(source)) {
                byte[] buffer = new byte[BUFFER];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    encoded.write(buffer, 0, n);
                }
            }
            encoded.close();
            writer.commit();
        } catch (FileAlreadyExistsException e) {
            // Another archiver (a standby with archive_mode = always, or a sync script) stored it meanwhile.
            return compareExisting(key, source, name, size);
        }
        return new Stored(key, size, counted.count(), false);
    }

    /** The key holding {@code name} under any suffix, the configured compression's first. */
    public Optional<String> findExisting(String name) throws IOException {
        for (String suffix : lookupOrder(compression)) {
            String key = Repository.walKey(name + suffix);
            if (storage.stat(key).isPresent()) {
                return Optional.of(key);
            }
        }
        return Optional.empty();
    }

    /**
     * The suffixes under which a file may already be archived, in the order they are looked up: the
     * configured compression's first, then the others. archive_wal.sh gets the same list, rendered.
     */
    public static List<String> lookupOrder(Compression configured) {
        List<String> order = new ArrayList<>(List.of(configured.suffix()));
        for (Compression c : Compression.values()) {
            if (c != configured) {
                order.add(c.suffix());
            }
        }
        return List.copyOf(order);
    }

    private Stored compareExisting(String key, Path source, String name, long size) throws IOException {
        boolean same;
        try (InputStream archived = Compression.ofSuffix(key).orElse(Compression.NONE).decompress(storage.open(key));
             InputStream local = Files.newInputStream(source)) {
            same = sameContent(archived, local);
        } catch (io.pgbackup.core.internal.crypto.SealedFormat.NoKeyException e) {
            // A host with only the public key cannot compare a sealed copy: it was stored under this name
            // by an archiver of this repository (a retry after a lost acknowledgement); it is left as it is.
            same = true;
        } catch (IOException e) {
            // A damaged archived copy is not "identical": keep it for inspection, do not replace it.
            same = false;
        }
        if (!same) {
            throw new ConflictException(name + " is already archived as " + key + " with different content; left untouched");
        }
        long stored = storage.stat(key).map(Storage.StoredObject::size).orElse(-1L);
        return new Stored(key, size, stored, true);
    }

    static boolean sameContent(InputStream a, InputStream b) throws IOException {
        byte[] x = new byte[64 * 1024];
        byte[] y = new byte[64 * 1024];
        while (true) {
            int n = a.readNBytes(x, 0, x.length);
            int m = b.readNBytes(y, 0, y.length);
            if (n != m || !java.util.Arrays.equals(x, 0, n, y, 0, m)) {
                return false;
            }
            if (n == 0) {
                return true;
            }
        }
    }
}
