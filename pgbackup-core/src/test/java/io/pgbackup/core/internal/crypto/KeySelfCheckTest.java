package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.crypto.Encryption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code pgbackup key check}: the configured key seals (and, private, opens) in memory; nothing is written. */
class KeySelfCheckTest {
    @TempDir
    Path dir;

    private Encryption encryption(EncryptionConfig key, Path backupDir) {
        return PgBackup.create(PgBackupConfig.builder().backupDir(backupDir).encryption(key).build()).encryption();
    }

    @Test
    void aPrivateKeySealsAndOpensAPublicKeyOnlySealsAndNothingIsWritten() throws Exception {
        KeyGenerator.Generated pair = KeyGenerator.generate(dir.resolve("key.json"), Optional.of(dir.resolve("key.pub")));
        Path repo = Files.createDirectories(dir.resolve("never-written"));

        Encryption.KeyCheck privateKey = encryption(EncryptionConfig.keyFile(pair.keyFile()), repo).check();
        assertThat(privateKey.keyId()).isEqualTo(pair.keyId());
        assertThat(privateKey.opens()).isTrue();
        assertThat(privateKey.sampleBytes()).isEqualTo(KeySelfCheck.SAMPLE_BYTES);

        Encryption.KeyCheck publicKey = encryption(EncryptionConfig.publicKeyFile(pair.publicFile().orElseThrow()), repo).check();
        assertThat(publicKey.keyId()).isEqualTo(pair.keyId());
        assertThat(publicKey.opens()).isFalse();

        // A key command (a secret manager) is checked the same way.
        assertThat(encryption(EncryptionConfig.keyCommand("cat " + pair.keyFile()), repo).check().opens()).isTrue();
        try (Stream<Path> files = Files.list(repo)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void withoutAKeyOrWithAFailingKeyCommandItIsOneLine() {
        Path repo = dir.resolve("repo");
        assertThatThrownBy(() -> encryption(EncryptionConfig.none(), repo).check()).isInstanceOf(PgBackupException.class)
                .hasMessageContaining("no encryption key is configured").hasMessageContaining("PG_BACKUP_ENCRYPTION_KEY_FILE")
                .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(ErrorCode.INVALID_CONFIG));
        assertThatThrownBy(() -> encryption(EncryptionConfig.keyCommand("false"), repo).check()).isInstanceOf(PgBackupException.class)
                .hasMessageContaining("failed with exit code 1").satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(repo).doesNotExist();
    }
}
