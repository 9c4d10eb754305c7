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

    /**
     * Checks the configured key before it is needed (a new key file, a secret manager's key
     * command): wraps a throwaway data key with it and seals {@link KeyCheck#sampleBytes()} under
     * that, in memory; with a private key, also unwraps and opens them again and compares. Nothing
     * is written and no repository is needed. Fails with one line when no key is configured, it
     * cannot be read, or it cannot seal or open.
     */
    KeyCheck check();

    /**
     * What {@link #check()} proved.
     *
     * @param keyId       the configured key's id, as {@code status} shows it
     * @param opens       false for a public key: it seals, and cannot open, as a seal-only host should
     * @param sampleBytes how many bytes were sealed (and opened)
     */
    record KeyCheck(String keyId, boolean opens, int sampleBytes) {
    }

    /**
     * Re-wraps every data key of the repository and of the configured bucket under the key in
     * {@code newKeyFile} (a private key file, mode 0600), after which the configured key opens
     * nothing; the data is not re-encrypted. Interrupted, running it again finishes it. With
     * {@code dryRun}, only the plan: nothing changes.
     */
    Rotation rotateKey(Path newKeyFile, boolean dryRun);

    /**
     * A rotation's plan, and with {@code dryRun} false what it did.
     *
     * @param records   every keyset record: where it is, its wrap key ids before, and its step
     *                  ({@code add-wrap}: gets the new key's wrap, then loses the others; {@code drop-old-wraps}:
     *                  an interrupted rotation left both; {@code done}: only the new key's)
     * @param rewritten how many times a record was replaced (0 for a dry run)
     */
    record Rotation(String oldKeyId, String newKeyId, java.util.List<KeysetRecordPlan> records, int rewritten, boolean dryRun) {
        public Rotation {
            records = java.util.List.copyOf(records);
        }
    }

    /** One keyset record in a {@link Rotation}. */
    record KeysetRecordPlan(String location, java.util.List<String> wrapKeyIds, String step) {
    }

    /** A key written by {@link #generateKey}: its id (as {@code status} shows it) and files. */
    record GeneratedKey(String keyId, Path keyFile, Optional<Path> publicKeyFile) {
    }
}
