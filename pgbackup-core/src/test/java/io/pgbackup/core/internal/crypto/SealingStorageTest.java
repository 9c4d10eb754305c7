package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.storage.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The sealed format and key handling without a cluster: what every end-to-end test builds on. */
class SealingStorageTest {
    private static final byte[] SECRET = "marker-7f3a secret row".repeat(5000).getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private SealingStorage storage(Path repo, EncryptionConfig config) {
        return Sealing.load(config, Clock.systemUTC()).seal(new LocalStorage(repo));
    }

    @Test
    void sealsWithTheObjectNameAsAssociatedDataAndOpensOnlyWhatIsIntact() throws Exception {
        KeyGenerator.Generated key = KeyGenerator.generate(dir.resolve("key.json"), Optional.empty());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key.keyFile()))).isEqualTo("rw-------");
        Path repo = Files.createDirectories(dir.resolve("repo"));
        SealingStorage s = storage(repo, EncryptionConfig.keyFile(key.keyFile()));
        s.write("base/20260101_000000/base.tar.gz", SECRET, Storage.WriteMode.REPLACE);
        s.write("wal_archive/000000010000000000000001.gz", SECRET, Storage.WriteMode.CREATE_NEW);
        s.write("wal_archive/000000010000000000000002.gz", "other".getBytes(), Storage.WriteMode.CREATE_NEW);

        byte[] stored = Files.readAllBytes(repo.resolve("base/20260101_000000/base.tar.gz"));
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain("marker-7f3a");
        assertThat(s.read("base/20260101_000000/base.tar.gz")).isEqualTo(SECRET);
        // Each scope has its own keyset record, stored wrapped under the key's id.
        assertThat(s.raw().list("base/20260101_000000/keys/")).hasSize(1);
        KeysetRecord record = KeysetRecord.parse(s.raw().read(s.raw().list("wal_archive/keys/").get(0).key()), "record");
        assertThat(record.wrapKeyIds()).containsExactly(key.keyId());
        assertThat(new String(s.raw().read(s.raw().list("wal_archive/keys/").get(0).key()))).doesNotContain("\"value\"");

        // A fresh process (new ring) opens it with the same key.
        assertThat(storage(repo, EncryptionConfig.keyFile(key.keyFile())).read("wal_archive/000000010000000000000001.gz"))
                .isEqualTo(SECRET);

        // Copied over another's name: refused, naming it.
        Files.copy(repo.resolve("wal_archive/000000010000000000000001.gz"), repo.resolve("wal_archive/000000010000000000000002.gz"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> s.read("wal_archive/000000010000000000000002.gz"))
                .isInstanceOf(SealedFormat.AuthenticationException.class)
                .hasMessageContaining("wal_archive/000000010000000000000002.gz failed authentication");

        // One flipped byte in the middle: refused.
        stored[stored.length / 2] ^= 1;
        Files.write(repo.resolve("base/20260101_000000/base.tar.gz"), stored);
        assertThatThrownBy(() -> s.read("base/20260101_000000/base.tar.gz"))
                .isInstanceOf(SealedFormat.AuthenticationException.class).hasMessageContaining("base/20260101_000000/base.tar.gz");

        // A plain object put into a sealed backup: refused. A plain object of before encryption elsewhere: read.
        Files.write(repo.resolve("base/20260101_000000/backup_manifest"), "{}".getBytes());
        assertThatThrownBy(() -> s.read("base/20260101_000000/backup_manifest")).hasMessageContaining("is plain in a backup");
        Files.createDirectories(repo.resolve("base/20250101_000000"));
        Files.write(repo.resolve("base/20250101_000000/backup_manifest"), "{}".getBytes());
        assertThat(s.read("base/20250101_000000/backup_manifest")).isEqualTo("{}".getBytes());

        // Another key: one line saying which key sealed it.
        KeyGenerator.Generated other = KeyGenerator.generate(dir.resolve("other.json"), Optional.empty());
        assertThatThrownBy(() -> storage(repo, EncryptionConfig.keyFile(other.keyFile())).read("wal_archive/000000010000000000000001.gz"))
                .isInstanceOf(SealedFormat.NoKeyException.class).hasMessageContaining("sealed under key " + key.keyId());
        // No key at all: one line, not garbage.
        assertThatThrownBy(() -> storage(repo, EncryptionConfig.none()).read("wal_archive/000000010000000000000001.gz"))
                .isInstanceOf(SealedFormat.NoKeyException.class).hasMessageContaining("PG_BACKUP_ENCRYPTION_KEY_FILE");
    }

    @Test
    void aPublicKeyHostSealsButCannotOpenAndTheManifestFallsBackToItsPlainIndex() throws Exception {
        KeyGenerator.Generated pair = KeyGenerator.generate(dir.resolve("key.json"), Optional.of(dir.resolve("key.pub")));
        Path repo = Files.createDirectories(dir.resolve("repo"));
        SealingStorage writer = storage(repo, EncryptionConfig.publicKeyFile(pair.publicFile().orElseThrow()));
        assertThat(writer.ring().wrapKey().orElseThrow().id()).isEqualTo(pair.keyId());
        writer.write("wal_archive/000000010000000000000001.gz", SECRET, Storage.WriteMode.CREATE_NEW);
        writer.write("base/20260101_000000/pgbackup_manifest.json", "{\"id\":1}".getBytes(), Storage.WriteMode.REPLACE);

        assertThatThrownBy(() -> writer.read("wal_archive/000000010000000000000001.gz"))
                .isInstanceOf(SealedFormat.NoKeyException.class).hasMessageContaining("has only the public key");
        assertThat(writer.read("base/20260101_000000/pgbackup_manifest.json")).isEqualTo("{\"id\":1}".getBytes());
        assertThat(Files.readString(repo.resolve("base/20260101_000000/pgbackup_manifest.json"), StandardCharsets.ISO_8859_1))
                .doesNotContain("\"id\"");

        SealingStorage reader = storage(repo, EncryptionConfig.keyFile(pair.keyFile()));
        assertThat(reader.read("wal_archive/000000010000000000000001.gz")).isEqualTo(SECRET);
        // With the key, the sealed manifest is read, not the index: an altered index changes nothing.
        Files.write(repo.resolve("base/20260101_000000/pgbackup_index.json"), "{\"id\":2}".getBytes());
        assertThat(reader.read("base/20260101_000000/pgbackup_manifest.json")).isEqualTo("{\"id\":1}".getBytes());
    }

    @Test
    void aKeyThatCannotBeReadFailsWithOneLineAndNeverTheKeyBytes() throws Exception {
        KeyGenerator.Generated key = KeyGenerator.generate(dir.resolve("key.json"), Optional.empty());
        assertThatThrownBy(() -> KeyGenerator.generate(key.keyFile(), Optional.empty())).hasMessageContaining("exists");
        Files.setPosixFilePermissions(key.keyFile(), PosixFilePermissions.fromString("rw-r-----"));
        assertThatThrownBy(() -> WrapKeys.load(EncryptionConfig.keyFile(key.keyFile())))
                .isInstanceOf(PgBackupException.class).hasMessageContaining("group or other access").hasMessageContaining("chmod 600");
        assertThatThrownBy(() -> WrapKeys.load(EncryptionConfig.keyFile(dir.resolve("missing.json"))))
                .hasMessageContaining("no such file").hasMessageContaining("nothing was stored");
        Files.setPosixFilePermissions(key.keyFile(), PosixFilePermissions.fromString("rw-------"));
        String content = Files.readString(key.keyFile());
        // The command's output is the key; a failing command is one line with its exit code.
        assertThat(WrapKeys.load(EncryptionConfig.keyCommand("cat " + key.keyFile())).orElseThrow().id()).isEqualTo(key.keyId());
        assertThatThrownBy(() -> WrapKeys.load(EncryptionConfig.keyCommand("false")))
                .hasMessageContaining("failed with exit code 1");
        Path garbage = dir.resolve("garbage.json");
        Files.writeString(garbage, content.substring(0, content.length() / 2));
        Files.setPosixFilePermissions(garbage, PosixFilePermissions.fromString("rw-------"));
        assertThatThrownBy(() -> WrapKeys.load(EncryptionConfig.keyFile(garbage)))
                .hasMessageContaining("is not a pgbackup key").satisfies(e -> assertThat(e.getMessage()).doesNotContain(content.substring(20, 40)));
    }
}
