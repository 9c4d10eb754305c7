package io.pgbackup.core.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;

/**
 * Where a repository's bytes live: a flat namespace of objects named by {@code /}-separated keys
 * such as {@code base/20260202_020000/base.tar.gz} or {@code wal_archive/000000010000000000000001.gz}.
 *
 * <p>The contract is the one an object store can keep: no directories, no renames, no advisory
 * locks. An object becomes visible under its key only when it is complete and durable (on disk:
 * temporary name, fsync, rename; in a bucket: the upload's completion). "A backup is complete"
 * is "its manifest object exists", and the manifest is always written last. Mutual exclusion is a
 * {@link Lease}, an object with an owner.
 *
 * <p>{@link #local} keeps the objects in a directory, pgbackup-s3's {@code S3Storage} in a
 * bucket (found through {@link BucketProvider}); an embedder may supply its own implementation
 * (or wrap one of these) through {@code PgBackup.builder(config).storage(...)}.
 */
public interface Storage {
    /**
     * The objects as files below the directory {@code root}, as the library keeps a local
     * repository ({@code PG_BACKUP_DIR}): each written to a temporary name, fsynced and renamed,
     * owner-only modes. For embedders that read a repository or wrap its storage.
     */
    static Storage local(java.nio.file.Path root) {
        java.util.Iterator<LocalProvider> found = java.util.ServiceLoader.load(LocalProvider.class,
                Storage.class.getClassLoader()).iterator();
        if (!found.hasNext()) {
            throw new IllegalStateException("pgbackup-core's META-INF/services/" + LocalProvider.class.getName()
                    + " is missing: a repackaged jar must keep service files");
        }
        return found.next().local(root);
    }

    /** The implementation behind {@link #local}, registered in {@code META-INF/services}; not for embedders. */
    interface LocalProvider {
        Storage local(java.nio.file.Path root);
    }

    /** Where the objects are, for messages: a directory, or {@code s3://bucket/prefix}. */
    String location();

    /**
     * The objects whose key starts with {@code prefix}, sorted by key. Objects still being
     * written never appear; implementations may show leftovers of interrupted writes only under
     * keys whose last segment starts with a dot.
     */
    List<StoredObject> list(String prefix) throws IOException;

    /** One object's size and time, if it exists. */
    Optional<StoredObject> stat(String key) throws IOException;

    /** Reads an object; {@link java.nio.file.NoSuchFileException} when there is none. */
    InputStream open(String key) throws IOException;

    /**
     * Starts writing an object. Nothing is visible under {@code key} until {@link ObjectWriter#commit()}
     * returns; closing the writer without committing discards what was written.
     *
     * @throws java.nio.file.FileAlreadyExistsException with {@link WriteMode#CREATE_NEW}, when the key exists
     */
    ObjectWriter create(String key, WriteMode mode) throws IOException;

    /** Writes a small object whole, complete and durable when this returns. */
    default void write(String key, byte[] content, WriteMode mode) throws IOException {
        try (ObjectWriter writer = create(key, mode)) {
            writer.stream().write(content);
            writer.commit();
        }
    }

    /** Reads a small object whole. */
    default byte[] read(String key) throws IOException {
        try (InputStream in = open(key)) {
            return in.readAllBytes();
        }
    }

    /** Deletes an object; a missing one is not an error. Returns whether it existed. */
    boolean delete(String key) throws IOException;

    /**
     * Deletes objects, in batches where the store has them (S3: 1,000 keys a request); missing
     * ones are not errors. Returns how many were deleted.
     */
    default int deleteAll(java.util.Collection<String> keys) throws IOException {
        int deleted = 0;
        for (String key : keys) {
            if (delete(key)) {
                deleted++;
            }
        }
        return deleted;
    }

    /**
     * Aborts the multipart uploads of crashed writers started more than {@code olderThan} ago,
     * where the store has such uploads and lists them; returns how many. None by default.
     */
    default int cleanupIncompleteUploads(java.time.Duration olderThan) throws IOException {
        return 0;
    }

    /**
     * Takes the repository's exclusive lease for {@code holder} (a line saying who: command, pid,
     * since when), or throws {@link LeaseHeldException} naming the current holder. A holder that
     * died must never block forever.
     */
    Lease acquireLease(String holder) throws IOException;

    /** How an object may be created. */
    enum WriteMode {
        /** Replace whatever is under the key. */
        REPLACE,
        /** Fail with {@link java.nio.file.FileAlreadyExistsException} if the key exists: archived WAL is never overwritten. */
        CREATE_NEW
    }

    /** One object: its key, its size in bytes and when it was last written. */
    record StoredObject(String key, long size, java.time.Instant lastModified) {
        /** The last segment of the key. */
        public String name() {
            return key.substring(key.lastIndexOf('/') + 1);
        }
    }

    /** An object being written. */
    interface ObjectWriter extends AutoCloseable {
        /** Where the content goes; do not close it, {@link #commit()} finishes it. */
        OutputStream stream();

        /** Finishes the object and makes it visible, complete and durable, under its key. */
        void commit() throws IOException;

        /** Discards the object unless it was committed. */
        @Override
        void close() throws IOException;
    }

    /** The repository's exclusive lease; closing it releases it. */
    interface Lease extends AutoCloseable {
        /**
         * Fails with {@link LeaseLostException} when this lease is no longer held (it expired, or
         * another process took it over): a holder calls it before each step that deletes or
         * overwrites. An OS lock cannot be lost, so by default nothing happens.
         */
        default void check() throws IOException {
        }

        @Override
        void close();
    }

    /** A lease that was held is not any more: what it protected may now be someone else's to change. */
    final class LeaseLostException extends IOException {
        public LeaseLostException(String message) {
            super(message);
        }
    }

    /** The lease is held by someone else. */
    final class LeaseHeldException extends IOException {
        private final String holder;

        public LeaseHeldException(String holder) {
            super("the repository lease is held" + (holder.isEmpty() ? "" : " (" + holder + ")"));
            this.holder = holder;
        }

        /** Who holds it, as they said when taking it; may be empty. */
        public String holder() {
            return holder;
        }
    }
}
