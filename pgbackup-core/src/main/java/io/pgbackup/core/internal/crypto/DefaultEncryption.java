package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.crypto.Encryption;
import io.pgbackup.core.internal.storage.AtomicFiles;
import io.pgbackup.core.internal.storage.Repository;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/** {@code pgbackup key generate} and {@code pgbackup decrypt}. */
public final class DefaultEncryption implements Encryption {
    private static final Pattern OBJECT_KEY = Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*");

    private final Supplier<Repository> repository;
    private final Supplier<Optional<io.pgbackup.core.storage.Storage>> bucket;
    private final java.time.Clock clock;
    private final Supplier<Optional<WrapKey>> configuredKey;

    /** With the configured bucket, whose keyset records {@code key rotate} re-wraps too, and the configured key, read when needed. */
    public DefaultEncryption(Supplier<Repository> repository, Supplier<Optional<io.pgbackup.core.storage.Storage>> bucket,
                             java.time.Clock clock, Supplier<Optional<WrapKey>> configuredKey) {
        this.repository = repository;
        this.bucket = bucket;
        this.clock = clock;
        this.configuredKey = configuredKey;
    }

    @Override
    public KeyCheck check() {
        WrapKey key = configuredKey.get().orElseThrow(() -> new PgBackupException(ErrorCode.INVALID_CONFIG, "no encryption key is"
                + " configured: set PG_BACKUP_ENCRYPTION_KEY_FILE (or _KEY_COMMAND, or _PUBLIC_KEY_FILE on a seal-only host)"));
        return KeySelfCheck.run(key);
    }

    @Override
    public Rotation rotateKey(Path newKeyFile, boolean dryRun) {
        return Rotator.rotate(repository.get(), bucket.get(), clock, newKeyFile, dryRun);
    }

    @Override
    public GeneratedKey generateKey(Path keyFile, Optional<Path> publicKeyFile) {
        KeyGenerator.Generated g = KeyGenerator.generate(keyFile, publicKeyFile);
        return new GeneratedKey(g.keyId(), g.keyFile(), g.publicFile());
    }

    @Override
    public long decrypt(String repositoryKey, OutputStream out) {
        String key = checkKey(repositoryKey);
        Repository repo = repository.get();
        try (InputStream in = repo.storage().open(key)) {
            return in.transferTo(out);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "no object " + key + " in " + repo.location()
                    + ": give a key as 'pgbackup list' and the repository name them, e.g. wal_archive/<segment>.gz");
        } catch (SealedFormat.AuthenticationException e) {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, e.getMessage());
        } catch (SealedFormat.NoKeyException e) {
            throw new PgBackupException(ErrorCode.REFUSED, e.getMessage());
        } catch (IOException e) {
            throw Repository.ioFailure("cannot decrypt " + repo.locationOf(key), e);
        }
    }

    @Override
    public long decrypt(String repositoryKey, Path out) {
        checkKey(repositoryKey);
        if (Files.exists(out, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new PgBackupException(ErrorCode.REFUSED, out + " exists: decrypt writes a new file only; choose another name");
        }
        long[] bytes = new long[1];
        try {
            AtomicFiles.createNew(out, PosixFilePermissions.fromString("rw-------"), to -> bytes[0] = decrypt(repositoryKey, to));
            return bytes[0];
        } catch (IOException e) {
            throw Repository.ioFailure("cannot write " + out, e);
        }
    }

    static String checkKey(String key) {
        if (key == null || !OBJECT_KEY.matcher(key).matches() || key.contains("..")) {
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "'" + key + "' is not a repository key: give one such as"
                    + " base/20260202_020000/base.tar.gz or wal_archive/000000010000000000000001.gz");
        }
        return key;
    }
}
