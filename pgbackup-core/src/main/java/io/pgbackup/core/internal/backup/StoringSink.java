package io.pgbackup.core.internal.backup;

import io.pgbackup.core.backup.BackupManifest;

import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredFileCheck;
import io.pgbackup.core.internal.storage.StoredName;
import io.pgbackup.core.internal.storage.WriteBehindOutputStream;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * Stores what a {@link BackupSource} streams as the objects of {@code base/<id>/}, each compressed
 * on the way (unless the server already did), hashed as stored, and committed only when its stream
 * is closed whole. Streams may be written from several threads at once.
 */
final class StoringSink implements ArchiveSink {
    static final String PG_MANIFEST = "backup_manifest";

    private final Repository repository;
    private final String id;
    private final Compression compression;
    private final List<BackupManifest.BackupFile> stored = Collections.synchronizedList(new ArrayList<>());
    private final List<String> written = Collections.synchronizedList(new ArrayList<>());
    private final List<OpenObject> open = Collections.synchronizedList(new ArrayList<>());
    /**
     * Up to 2 MiB per tar between the receiving thread and the one compressing and sealing it: the
     * cipher is slow for a fresh JVM's first ~20 MB (until the JIT has compiled AES-GCM).
     */
    private static final int BEHIND_CHUNK = 256 * 1024;
    private static final int BEHIND_DEPTH = 8;

    StoringSink(Repository repository, String id, Compression compression) {
        this.repository = repository;
        this.id = id;
        this.compression = compression;
    }

    @Override
    public OutputStream archive(String name) throws IOException {
        // A tar the server compressed (base.tar.zst) is stored as it came.
        boolean serverCompressed = StoredName.parse(name).compression() != Compression.NONE;
        return store(serverCompressed ? name : name + compression.suffix(), serverCompressed ? Compression.NONE : compression, true);
    }

    @Override
    public OutputStream manifest() throws IOException {
        return store(PG_MANIFEST, Compression.NONE, false);
    }

    /** A file of pgbackup's own beside the server's (e.g. pgbackup_files.json.gz), stored as named. */
    OutputStream extra(String fileName, Compression encoding) throws IOException {
        return store(fileName, encoding, false);
    }

    /** Discards every object not yet complete (a failed source may leave streams unclosed). */
    void abort() {
        synchronized (open) {
            for (OpenObject object : open) {
                try {
                    object.discard();
                } catch (IOException | RuntimeException ignored) {
                    // the temporary object goes with the next cleanup
                }
            }
            open.clear();
        }
    }

    /** Keys of every object this sink began, committed or not: what a failed backup removes. */
    List<String> keysWritten() {
        return List.copyOf(written);
    }

    /** The stored files, in a stable order (base.tar first, as the manifest always listed it). */
    List<BackupManifest.BackupFile> files() {
        List<BackupManifest.BackupFile> files = new ArrayList<>(stored);
        files.sort(Comparator.comparing((BackupManifest.BackupFile f) -> order(f.name())).thenComparing(BackupManifest.BackupFile::name));
        return files;
    }

    private static int order(String name) {
        if (name.startsWith("base.tar")) {
            return 0;
        }
        if (name.startsWith("pg_wal.tar")) {
            return 2;
        }
        return name.equals(PG_MANIFEST) ? 3 : 1;
    }

    /**
     * @param behind whether the object is written from a thread of its own (a tar): compressing it
     *               in order and sealing it then never hold up the thread receiving the server's stream
     */
    private OutputStream store(String fileName, Compression encoding, boolean behind) throws IOException {
        String key = Repository.backupFileKey(id, fileName);
        written.add(key);
        MessageDigest sha = StoredFileCheck.sha256();
        java.util.concurrent.atomic.AtomicReference<io.pgbackup.core.internal.storage.CountingOutputStream> counted =
                new java.util.concurrent.atomic.AtomicReference<>();
        io.pgbackup.core.internal.storage.EncodedWriter writer = repository.createEncoded(key, encoding, raw -> {
            counted.set(new io.pgbackup.core.internal.storage.CountingOutputStream(new DigestOutputStream(raw, sha)));
            return counted.get();
        });
        WriteBehindOutputStream behindStream = behind ? new WriteBehindOutputStream(
                io.pgbackup.core.internal.storage.NonClosing.output(writer.stream()), BEHIND_CHUNK, BEHIND_DEPTH, key) : null;
        OpenObject object = new OpenObject(writer, behindStream);
        open.add(object);
        return new FilterOutputStream(behindStream != null ? behindStream : writer.stream()) {
            private boolean closed;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                if (closed) {
                    return;
                }
                closed = true;
                try {
                    if (behindStream != null) {
                        behindStream.close();
                    }
                    writer.commit();
                    stored.add(new BackupManifest.BackupFile(fileName, counted.get().count(), StoredFileCheck.hex(sha)));
                } finally {
                    object.discard();
                    open.remove(object);
                }
            }
        };
    }

    /** An object being written, with the write-behind thread in front of it (tars only). */
    private record OpenObject(io.pgbackup.core.internal.storage.EncodedWriter writer, WriteBehindOutputStream behind) {
        /** Stops the write-behind thread first, so nothing writes into the temporary object while it goes. A no-op once committed. */
        void discard() throws IOException {
            if (behind != null) {
                behind.abandon();
            }
            writer.close();
        }
    }
}
