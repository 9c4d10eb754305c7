package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where the key that wraps the repository's data keys comes from; at most one source is set.
 * Unset: nothing is sealed (sealed objects already stored still need a key to be read).
 *
 * @param keyFile       {@code PG_BACKUP_ENCRYPTION_KEY_FILE}: a Tink keyset written by {@code pgbackup key generate}, mode 0600
 * @param keyCommand    {@code PG_BACKUP_ENCRYPTION_KEY_COMMAND}: a command (split into words, run without a shell)
 *                      whose standard output is that keyset
 * @param publicKeyFile {@code PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE}: the public half of a key pair; seals, cannot read back
 */
public record EncryptionConfig(Optional<Path> keyFile, Optional<String> keyCommand, Optional<Path> publicKeyFile) {
    public static final String PG_BACKUP_ENCRYPTION_KEY_FILE = "PG_BACKUP_ENCRYPTION_KEY_FILE";
    public static final String PG_BACKUP_ENCRYPTION_KEY_COMMAND = "PG_BACKUP_ENCRYPTION_KEY_COMMAND";
    public static final String PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE = "PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE";

    public EncryptionConfig {
        keyFile = keyFile == null ? Optional.empty() : keyFile;
        keyCommand = keyCommand == null ? Optional.empty() : keyCommand.filter(c -> !c.isBlank());
        publicKeyFile = publicKeyFile == null ? Optional.empty() : publicKeyFile;
        List<String> set = new ArrayList<>();
        keyFile.ifPresent(f -> set.add(PG_BACKUP_ENCRYPTION_KEY_FILE));
        keyCommand.ifPresent(f -> set.add(PG_BACKUP_ENCRYPTION_KEY_COMMAND));
        publicKeyFile.ifPresent(f -> set.add(PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE));
        if (set.size() > 1) {
            throw new PgBackupException(ErrorCode.INVALID_CONFIG, String.join(" and ", set)
                    + " are both set: set only one source of the encryption key");
        }
    }

    /** No encryption configured. */
    public static EncryptionConfig none() {
        return new EncryptionConfig(Optional.empty(), Optional.empty(), Optional.empty());
    }

    public static EncryptionConfig keyFile(Path file) {
        return new EncryptionConfig(Optional.of(file), Optional.empty(), Optional.empty());
    }

    public static EncryptionConfig keyCommand(String command) {
        return new EncryptionConfig(Optional.empty(), Optional.of(command), Optional.empty());
    }

    public static EncryptionConfig publicKeyFile(Path file) {
        return new EncryptionConfig(Optional.empty(), Optional.empty(), Optional.of(file));
    }

    /** Whether new objects are sealed. */
    public boolean enabled() {
        return keyFile.isPresent() || keyCommand.isPresent() || publicKeyFile.isPresent();
    }

    /** Whether this configuration can open sealed objects (it has the secret key, not only the public one). */
    public boolean canRead() {
        return keyFile.isPresent() || keyCommand.isPresent();
    }

    static EncryptionConfig fromSettings(EnvSettings env) {
        return new EncryptionConfig(Optional.ofNullable(env.absolutePath(PG_BACKUP_ENCRYPTION_KEY_FILE)),
                Optional.ofNullable(env.string(PG_BACKUP_ENCRYPTION_KEY_COMMAND)),
                Optional.ofNullable(env.absolutePath(PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE)));
    }
}
