package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeyTemplates;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.storage.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.Optional;

/**
 * {@code pgbackup key generate}: a new wrap key as a Tink JSON keyset, mode 0600, never over an
 * existing file. With a public half, the key is a hybrid key pair and the public keyset goes to
 * its own file (0644: it seals, it cannot open).
 */
public final class KeyGenerator {
    private KeyGenerator() {
    }

    /** What was written: the key's id, and the public file if any. */
    public record Generated(String keyId, Path keyFile, Optional<Path> publicFile) {
    }

    public static Generated generate(Path out, Optional<Path> publicOut) {
        if (publicOut.isPresent()) {
            TinkSetup.registerHybrid();
        } else {
            TinkSetup.register();
        }
        for (Path p : publicOut.isPresent() ? java.util.List.of(out, publicOut.get()) : java.util.List.of(out)) {
            if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new PgBackupException(ErrorCode.REFUSED, p + " exists: pgbackup never replaces a key file (a lost key"
                        + " makes every backup sealed with it unreadable); choose another name");
            }
        }
        if (publicOut.isPresent() && publicOut.get().toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "--out and --public-out name the same file: give two files");
        }
        try {
            KeysetHandle handle = KeysetHandle.generateNew(KeyTemplates.get(
                    publicOut.isPresent() ? TinkSetup.HYBRID_TEMPLATE : TinkSetup.WRAP_TEMPLATE));
            String secret = TinkJsonProtoKeysetFormat.serializeKeyset(handle, InsecureSecretKeyAccess.get());
            writeNew(out, secret, "rw-------");
            if (publicOut.isPresent()) {
                String pub = TinkJsonProtoKeysetFormat.serializeKeysetWithoutSecret(handle.getPublicKeysetHandle());
                writeNew(publicOut.get(), pub, "rw-r--r--");
            }
            return new Generated(WrapKey.idOf(handle), out, publicOut);
        } catch (GeneralSecurityException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot generate a key: " + e.getClass().getSimpleName(), e);
        }
    }

    private static void writeNew(Path file, String content, String mode) {
        try {
            AtomicFiles.createNew(file, PosixFilePermissions.fromString(mode),
                    out -> out.write((content + "\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot write " + file + ": " + io.pgbackup.core.internal.storage.Repository.describe(e), e);
        }
    }
}
