package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.internal.process.CommonsExecProcessRunner;
import io.pgbackup.core.internal.sync.SshCommand;
import io.pgbackup.core.process.ProcessRunner.ProcessResult;
import io.pgbackup.core.process.ProcessRunner;
import io.pgbackup.core.process.ProcessRunner.ProcessSpec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Loads the configured wrap key. Every failure is one line naming the setting and the fix, and
 * never any of the key's bytes; a configured key that cannot be read fails the command (there is
 * no plaintext fallback).
 */
public final class WrapKeys {
    private static final Set<PosixFilePermission> GROUP_OR_OTHER = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
    private static final long COMMAND_TIMEOUT_SECONDS = 60;
    private static final int MAX_KEY_BYTES = 64 * 1024;

    private WrapKeys() {
    }

    /** The configured key, or empty when encryption is not configured; a key command runs through the default runner. */
    public static Optional<WrapKey> load(EncryptionConfig config) {
        return load(config, new CommonsExecProcessRunner());
    }

    /** As {@link #load(EncryptionConfig)}, a key command running through {@code runner} (the process seam). */
    public static Optional<WrapKey> load(EncryptionConfig config, ProcessRunner runner) {
        if (config.keyFile().isPresent()) {
            Path file = config.keyFile().get();
            return Optional.of(parse(readPrivateFile(file), EncryptionConfig.PG_BACKUP_ENCRYPTION_KEY_FILE + " " + file, true));
        }
        if (config.keyCommand().isPresent()) {
            return Optional.of(parse(runCommand(config.keyCommand().get(), runner), EncryptionConfig.PG_BACKUP_ENCRYPTION_KEY_COMMAND
                    + "'s output", true));
        }
        if (config.publicKeyFile().isPresent()) {
            Path file = config.publicKeyFile().get();
            byte[] content = read(file, EncryptionConfig.PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE);
            return Optional.of(parse(content, EncryptionConfig.PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE + " " + file, false));
        }
        return Optional.empty();
    }

    /** A private key file named on the command line ({@code setting}: the option), checked as the configured one is. */
    public static WrapKey loadPrivateFile(Path file, String setting) {
        return parse(readPrivateFile(file, setting), setting + " " + file, true);
    }

    /** Reads a secret key file, refusing one that its group or others may access (as libpq does for .pgpass). */
    static byte[] readPrivateFile(Path file) {
        return readPrivateFile(file, EncryptionConfig.PG_BACKUP_ENCRYPTION_KEY_FILE);
    }

    private static byte[] readPrivateFile(Path file, String setting) {
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (mode.stream().anyMatch(GROUP_OR_OTHER::contains)) {
                throw new PgBackupException(ErrorCode.REFUSED, setting + " " + file
                        + " has group or other access: the key must be readable by its owner only; run chmod 600 " + file);
            }
        } catch (IOException e) {
            throw unreadable(setting, file, e);
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
        return read(file, setting);
    }

    private static byte[] read(Path file, String setting) {
        try {
            if (Files.size(file) > MAX_KEY_BYTES) {
                throw new PgBackupException(ErrorCode.INVALID_CONFIG, setting + " " + file
                        + " is too large for a key file: give the file 'pgbackup key generate --out FILE' wrote");
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw unreadable(setting, file, e);
        }
    }

    /** Keeps at most a key file's worth of output; beyond it only notes that there was more. */
    private static final class KeySink extends ByteArrayOutputStream {
        boolean overflowed;

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            if (overflowed || count + len > MAX_KEY_BYTES) {
                overflowed = true;
                return;
            }
            super.write(b, off, len);
        }

        @Override
        public synchronized void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }
    }

    private static PgBackupException unreadable(String setting, Path file, IOException e) {
        String why = e instanceof java.nio.file.NoSuchFileException ? "no such file"
                : e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.getClass().getSimpleName();
        return new PgBackupException(ErrorCode.IO_FAILED, "cannot read the encryption key " + setting + " " + file + ": " + why
                + "; nothing was stored (pgbackup never falls back to storing plaintext)");
    }

    /** Runs the key command without a shell; its standard output is the key. Its output and stderr are never logged. */
    static byte[] runCommand(String command, ProcessRunner runner) {
        String setting = EncryptionConfig.PG_BACKUP_ENCRYPTION_KEY_COMMAND;
        List<String> argv = SshCommand.split(command);
        if (argv.isEmpty()) {
            throw new PgBackupException(ErrorCode.INVALID_CONFIG, setting + " is empty: give a command that prints the key");
        }
        String program = Path.of(argv.get(0)).getFileName().toString();
        KeySink out = new KeySink();
        ProcessResult result;
        try {
            // Through the process seam; stdout goes only to this sink, stderr is captured and dropped, stdin is closed.
            result = runner.run(ProcessSpec.of(argv).withTimeout(java.time.Duration.ofSeconds(COMMAND_TIMEOUT_SECONDS))
                    .withStdoutSink(out));
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, setting + " (" + program + ") cannot be run: "
                    + e.getClass().getSimpleName() + "; nothing was stored");
        }
        if (result.timedOut()) {
            throw new PgBackupException(ErrorCode.IO_FAILED, setting + " (" + program + ") did not finish within "
                    + COMMAND_TIMEOUT_SECONDS + " s; nothing was stored");
        }
        if (out.overflowed) {
            throw new PgBackupException(ErrorCode.IO_FAILED, setting + " (" + program
                    + ") printed more than a key file holds: it must print the file 'pgbackup key generate' wrote");
        }
        if (result.exitCode() != 0) {
            throw new PgBackupException(ErrorCode.IO_FAILED, setting + " (" + program + ") failed with exit code "
                    + result.exitCode() + "; nothing was stored (pgbackup never falls back to storing plaintext)");
        }
        return out.toByteArray();
    }

    private static WrapKey parse(byte[] content, String what, boolean secret) {
        TinkSetup.register();
        try {
            String json = new String(content, StandardCharsets.UTF_8).strip();
            Optional<WrapKey> symmetric = secret ? symmetric(json) : Optional.empty();
            // Not symmetric: parsed again once the hybrid key types are known, so they parse as themselves.
            WrapKey key = symmetric.isPresent() ? symmetric.get() : keyPair(json, secret);
            if (secret && !key.canUnwrap()) {
                throw new PgBackupException(ErrorCode.INVALID_CONFIG, what + " is a public key: give it as "
                        + EncryptionConfig.PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE + ", or give the private key file here");
            }
            return key;
        } catch (GeneralSecurityException | RuntimeException e) {
            if (e instanceof PgBackupException p) {
                throw p;
            }
            // Tink's message could quote the input: say only what it is not.
            throw new PgBackupException(ErrorCode.INVALID_CONFIG, what + " is not a pgbackup key"
                    + (secret ? "" : " (public half)") + ": make one with 'pgbackup key generate --out FILE"
                    + (secret ? "" : " --public-out PUB") + "'");
        }
    }

    private static Optional<WrapKey> symmetric(String json) {
        try {
            return WrapKey.ofSymmetric(parseKeyset(json, true));
        } catch (GeneralSecurityException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static WrapKey keyPair(String json, boolean secret) throws GeneralSecurityException {
        TinkSetup.registerHybrid();
        return WrapKey.ofKeyPair(parseKeyset(json, secret));
    }

    private static KeysetHandle parseKeyset(String json, boolean secret) throws GeneralSecurityException {
        return secret ? TinkJsonProtoKeysetFormat.parseKeyset(json, InsecureSecretKeyAccess.get())
                : TinkJsonProtoKeysetFormat.parseKeysetWithoutSecret(json);
    }
}
