package io.pgbackup.cli;

import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.internal.crypto.Sealing;
import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.storage.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** 'pgbackup key generate' and 'pgbackup decrypt' through the jar: files, modes, exit codes and one-line messages. */
class KeyCliTest {
    private static final String SEGMENT = "wal_archive/000000010000000000000001.gz";

    @TempDir
    Path work;

    @Test
    void keyGenerateWritesAnOwnerOnlyKeyAndDecryptOpensOneObjectOrSaysWhyNot() throws Exception {
        long started = System.nanoTime();
        // One JVM start per case that only the CLI can show; refusing an existing file and a group-readable key
        // are core behaviour (SealingStorageTest), their exit codes the common mapping.
        Path key = work.resolve("pgbackup.key");
        CliProcess.Result generated = CliProcess.run(Map.of(), "key", "generate", "--out", key.toString(),
                "--public-out", work.resolve("pair.pub").toString());
        assertThat(generated.exitCode()).as(generated.all()).isZero();
        assertThat(generated.stdout()).contains("written to " + key).contains("mode 0600");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(generated.all()).doesNotContain(Files.readString(key).strip());
        assertThat(work.resolve("pair.pub")).exists();

        CliProcess.Result usage = CliProcess.run(Map.of(), "key", "generate");
        assertThat(usage.exitCode()).isEqualTo(2);

        // One sealed object in a repository, as the archiver stores it.
        Path repo = Files.createDirectories(work.resolve("repo"));
        byte[] content = "compressed segment bytes".repeat(1000).getBytes(StandardCharsets.UTF_8);
        Sealing.load(EncryptionConfig.keyFile(key), Clock.systemUTC()).seal(new LocalStorage(repo))
                .write(SEGMENT, content, Storage.WriteMode.CREATE_NEW);
        Map<String, String> withKey = Map.of("PG_BACKUP_DIR", repo.toString(), "PG_BACKUP_ENCRYPTION_KEY_FILE", key.toString());

        // key check: the configured key, without a repository; without one configured, a usage error.
        CliProcess.Result check = CliProcess.run(Map.of("PG_BACKUP_ENCRYPTION_KEY_FILE", key.toString()), "key", "check");
        assertThat(check.exitCode()).as(check.all()).isZero();
        assertThat(check.stdout()).contains("seals and opens").contains("nothing was written");
        CliProcess.Result noKey = CliProcess.run(Map.of(), "key", "check");
        assertThat(noKey.exitCode()).as(noKey.all()).isEqualTo(2);
        assertThat(noKey.stderr().strip()).doesNotContain("\n").contains("no encryption key is configured");

        Path out = work.resolve("segment.gz");
        CliProcess.Result decrypted = CliProcess.run(withKey, "decrypt", SEGMENT, "--out", out.toString());
        assertThat(decrypted.exitCode()).as(decrypted.all()).isZero();
        assertThat(Files.readAllBytes(out)).isEqualTo(content);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out))).isEqualTo("rw-------");

        CliProcess.Result keyless = CliProcess.run(Map.of("PG_BACKUP_DIR", repo.toString()), "decrypt", SEGMENT,
                "--out", work.resolve("keyless.gz").toString());
        assertThat(keyless.exitCode()).isEqualTo(1);
        assertThat(keyless.stderr().strip()).doesNotContain("\n").contains(SEGMENT + " is sealed");
        assertThat(work.resolve("keyless.gz")).doesNotExist();

        // A flipped byte: refused, naming the object.
        Path stored = repo.resolve(SEGMENT);
        byte[] bytes = Files.readAllBytes(stored);
        bytes[bytes.length / 2] ^= 1;
        Files.write(stored, bytes);
        CliProcess.Result altered = CliProcess.run(withKey, "decrypt", SEGMENT, "--out", work.resolve("altered.gz").toString());
        assertThat(altered.exitCode()).isEqualTo(1);
        assertThat(altered.stderr().strip()).doesNotContain("\n").contains(SEGMENT + " failed authentication");
        assertThat(work.resolve("altered.gz")).doesNotExist();
        System.out.printf("elapsed %s: %d ms%n", "key-cli", (System.nanoTime() - started) / 1_000_000);
    }
}
