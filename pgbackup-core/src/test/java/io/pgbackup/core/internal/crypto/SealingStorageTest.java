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
        // A plain object of before encryption (it is in the inventory init takes).
        Files.createDirectories(repo.resolve("base/20250101_000000"));
        Files.write(repo.resolve("base/20250101_000000/backup_manifest"), "{}".getBytes());
        SealingStorage s = storage(repo, EncryptionConfig.keyFile(key.keyFile()));
        s.takeInventory(); // as init with the key does
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
    void withTheKeyAPlainObjectIsReadOnlyIfTheSealedInventoryListsItFromBeforeEncryption() throws Exception {
        KeyGenerator.Generated key = KeyGenerator.generate(dir.resolve("key.json"), Optional.empty());
        EncryptionConfig withKey = EncryptionConfig.keyFile(key.keyFile());
        Path repo = Files.createDirectories(dir.resolve("mixed"));
        // Before encryption: a plain backup and a plain segment.
        SealingStorage plain = storage(repo, EncryptionConfig.none());
        plain.write("base/20250101_000000/pgbackup_manifest.json", "{\"a\":1}".getBytes(), Storage.WriteMode.REPLACE);
        plain.write("base/20250101_000000/base.tar.gz", "tar".getBytes(), Storage.WriteMode.REPLACE);
        plain.write("wal_archive/000000010000000000000001.gz", "seg1".getBytes(), Storage.WriteMode.CREATE_NEW);
        // Encryption begins: init with the key lists them, sealed; then writes seal.
        SealingStorage turnedOn = storage(repo, withKey);
        assertThat(turnedOn.takeInventory()).isTrue();
        turnedOn.write("wal_archive/000000010000000000000002.gz", SECRET, Storage.WriteMode.CREATE_NEW);
        assertThat(new String(Files.readAllBytes(repo.resolve(PlainInventory.KEY)), StandardCharsets.ISO_8859_1))
                .doesNotContain("20250101_000000");

        // Someone with write access but no key adds plain objects.
        plain.write("base/20250202_000000/pgbackup_manifest.json", "{\"a\":2}".getBytes(), Storage.WriteMode.REPLACE);
        plain.write("wal_archive/000000010000000000000003.gz", "seg3".getBytes(), Storage.WriteMode.CREATE_NEW);
        Files.write(repo.resolve("base/20250101_000000/pgbackup_manifest.json"), "{\"a\":9}".getBytes());

        SealingStorage s = storage(repo, withKey);
        assertThat(s.read("base/20250101_000000/base.tar.gz")).isEqualTo("tar".getBytes());
        assertThat(s.read("wal_archive/000000010000000000000001.gz")).isEqualTo("seg1".getBytes());
        assertThat(s.read("wal_archive/000000010000000000000002.gz")).isEqualTo(SECRET);
        assertThatThrownBy(() -> s.read("wal_archive/000000010000000000000003.gz"))
                .isInstanceOf(SealedFormat.AuthenticationException.class)
                .hasMessage("wal_archive/000000010000000000000003.gz is plain but the repository's objects are sealed and it is not"
                        + " among the plain objects of before encryption (" + PlainInventory.KEY + "): someone without the key"
                        + " added it; refused");
        assertThatThrownBy(() -> s.read("base/20250202_000000/pgbackup_manifest.json"))
                .hasMessageContaining("base/20250202_000000/pgbackup_manifest.json is plain but");
        // A listed manifest replaced by one of the same size: its SHA-256 differs.
        assertThatThrownBy(() -> s.read("base/20250101_000000/pgbackup_manifest.json"))
                .hasMessageContaining("base/20250101_000000/pgbackup_manifest.json is plain and differs from the manifest");
        // Without the key nothing can be told apart: plain objects stay readable there.
        assertThat(storage(repo, EncryptionConfig.none()).read("wal_archive/000000010000000000000003.gz")).isEqualTo("seg3".getBytes());

        // A listed plain segment replaced by another of the same size: its SHA-256, pinned by the inventory, differs.
        Files.write(repo.resolve("wal_archive/000000010000000000000001.gz"), "segX".getBytes());
        assertThatThrownBy(() -> storage(repo, withKey).read("wal_archive/000000010000000000000001.gz"))
                .isInstanceOf(SealedFormat.AuthenticationException.class)
                .hasMessageContaining("wal_archive/000000010000000000000001.gz is plain and differs from the object of before encryption");
        Files.write(repo.resolve("wal_archive/000000010000000000000001.gz"), "seg1".getBytes());

        // The inventory deleted: no plain object is accepted any more.
        Files.delete(repo.resolve(PlainInventory.KEY));
        assertThatThrownBy(() -> storage(repo, withKey).read("wal_archive/000000010000000000000001.gz"))
                .hasMessageContaining(PlainInventory.KEY + " is missing");

        // A repository sealed from the start accepts no plain object at all.
        Path fresh = Files.createDirectories(dir.resolve("fresh"));
        storage(fresh, withKey).write("wal_archive/000000010000000000000001.gz", SECRET, Storage.WriteMode.CREATE_NEW);
        storage(fresh, EncryptionConfig.none()).write("wal_archive/000000010000000000000002.gz", "x".getBytes(),
                Storage.WriteMode.CREATE_NEW);
        assertThatThrownBy(() -> storage(fresh, withKey).read("wal_archive/000000010000000000000002.gz"))
                .hasMessageContaining("wal_archive/000000010000000000000002.gz is plain but");
    }

    @Test
    void aWalKeysetRecordIsDroppableOnceNoKeptSealedObjectNamesItAndItIsOldEnough() throws Exception {
        KeyGenerator.Generated key = KeyGenerator.generate(dir.resolve("key.json"), Optional.empty());
        Path repo = Files.createDirectories(dir.resolve("prune"));
        String seg1 = "wal_archive/000000010000000000000001.gz";
        String seg2 = "wal_archive/000000010000000000000002.gz";
        // Two archiver processes: two records; the first also sealed the plain inventory.
        storage(repo, EncryptionConfig.keyFile(key.keyFile())).write(seg1, SECRET, Storage.WriteMode.CREATE_NEW);
        SealingStorage second = storage(repo, EncryptionConfig.keyFile(key.keyFile()));
        second.write(seg2, SECRET, Storage.WriteMode.CREATE_NEW);
        Storage raw = second.raw();
        assertThat(raw.list("wal_archive/keys/")).hasSize(2);
        String record2;
        try (var in = raw.open(seg2)) {
            record2 = SealedFormat.peekRef(in, seg2).orElseThrow();
        }
        java.time.Instant later = java.time.Instant.now().plus(java.time.Duration.ofDays(3));

        assertThat(WalKeysets.unreferenced(raw, java.util.Set.of(), later)).isEmpty();
        // Cleanup deletes segment 2: its record goes too; segment 1's stays, as the inventory still names it.
        assertThat(WalKeysets.unreferenced(raw, java.util.Set.of(seg2), later)).extracting(Storage.StoredObject::key)
                .containsExactly(record2);
        assertThat(WalKeysets.unreferenced(raw, java.util.Set.of(seg1, seg2), later)).extracting(Storage.StoredObject::key)
                .containsExactly(record2);
        // A record of the last two days may be a running archiver's: kept.
        assertThat(WalKeysets.unreferenced(raw, java.util.Set.of(seg2), java.time.Instant.now())).isEmpty();
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
        // decrypt's object name (KeyCliTest no longer starts a JVM for it): outside the repository, a usage error.
        assertThatThrownBy(() -> DefaultEncryption.checkKey("../etc/passwd")).isInstanceOf(PgBackupException.class)
                .hasMessageContaining("is not a repository key")
                .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT));
        Files.setPosixFilePermissions(key.keyFile(), PosixFilePermissions.fromString("rw-r-----"));
        assertThatThrownBy(() -> WrapKeys.load(EncryptionConfig.keyFile(key.keyFile())))
                .isInstanceOf(PgBackupException.class).hasMessageContaining("group or other access").hasMessageContaining("chmod 600");
        assertThatThrownBy(() -> WrapKeys.load(EncryptionConfig.keyFile(dir.resolve("missing.json"))))
                .hasMessageContaining("no such file").hasMessageContaining("nothing was stored");
        Files.setPosixFilePermissions(key.keyFile(), PosixFilePermissions.fromString("rw-------"));
        String content = Files.readString(key.keyFile());
        // The command's output is the key; a failing command is one line with its exit code.
        assertThat(WrapKeys.load(EncryptionConfig.keyCommand("cat " + key.keyFile())).orElseThrow().id()).isEqualTo(key.keyId());
        // The key command runs through the process seam (an embedder's runner sees it; its output stays out of the result).
        java.util.List<io.pgbackup.core.process.ProcessRunner.ProcessSpec> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
        io.pgbackup.core.process.ProcessRunner real = new io.pgbackup.core.internal.process.CommonsExecProcessRunner();
        io.pgbackup.core.process.ProcessRunner recording = spec -> {
            ran.add(spec);
            io.pgbackup.core.process.ProcessRunner.ProcessResult result = real.run(spec);
            assertThat(result.stdout()).doesNotContain("primaryKeyId");
            return result;
        };
        assertThat(Sealing.load(EncryptionConfig.keyCommand("cat " + key.keyFile()), Clock.systemUTC(), recording).key()
                .orElseThrow().id()).isEqualTo(key.keyId());
        assertThat(ran).extracting(io.pgbackup.core.process.ProcessRunner.ProcessSpec::command)
                .containsExactly(java.util.List.of("cat", key.keyFile().toString()));
        assertThatThrownBy(() -> WrapKeys.load(EncryptionConfig.keyCommand("false")))
                .hasMessageContaining("failed with exit code 1");
        Path garbage = dir.resolve("garbage.json");
        Files.writeString(garbage, content.substring(0, content.length() / 2));
        Files.setPosixFilePermissions(garbage, PosixFilePermissions.fromString("rw-------"));
        assertThatThrownBy(() -> WrapKeys.load(EncryptionConfig.keyFile(garbage)))
                .hasMessageContaining("is not a pgbackup key").satisfies(e -> assertThat(e.getMessage()).doesNotContain(content.substring(20, 40)));
    }
}
