package io.pgbackup.core.crypto;

import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Encryption at rest, for the commands that handle keys themselves ({@code pgbackup key},
 * {@code pgbackup decrypt}). Sealing and opening objects needs nothing from an embedder beyond
 * {@code PG_BACKUP_ENCRYPTION_*} ({@link io.pgbackup.core.config.EncryptionConfig}).
 */
public interface Encryption {
    /**
     * Writes a new wrap key to {@code keyFile} (mode 0600, never over an existing file); with
     * {@code publicKeyFile}, a key pair whose public half goes there, for hosts that back up and
     * archive but must not read back.
     */
    GeneratedKey generateKey(Path keyFile, Optional<Path> publicKeyFile);

    /**
     * Writes the object under {@code repositoryKey} (e.g. {@code wal_archive/000000010000000000000001.gz})
     * opened and authenticated, still compressed, to {@code out}; returns the bytes written.
     */
    long decrypt(String repositoryKey, OutputStream out);

    /** As {@link #decrypt(String, OutputStream)}, into a new file {@code out} (mode 0600, complete or absent). */
    long decrypt(String repositoryKey, Path out);

    /** A key written by {@link #generateKey}: its id (as {@code status} shows it) and files. */
    record GeneratedKey(String keyId, Path keyFile, Optional<Path> publicKeyFile) {
    }
}
