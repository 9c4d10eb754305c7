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
        Path key = work.resolve("pgbackup.key");
        CliProcess.Result generated = CliProcess.run(Map.of(), "key", "generate", "--out", key.toString());
        assertThat(generated.exitCode()).as(generated.all()).isZero();
        assertThat(generated.stdout()).contains("written to " + key).contains("mode 0600");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(generated.all()).doesNotContain(Files.readString(key).strip());

        CliProcess.Result again = CliProcess.run(Map.of(), "key", "generate", "--out", key.toString());
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.stderr().strip()).doesNotContain("\n").contains("exists");
        CliProcess.Result usage = CliProcess.run(Map.of(), "key", "generate");
        assertThat(usage.exitCode()).isEqualTo(2);

        CliProcess.Result pair = CliProcess.run(Map.of(), "key", "generate", "--out", work.resolve("pair.key").toString(),
                "--public-out", work.resolve("pair.pub").toString());
        assertThat(pair.exitCode()).as(pair.all()).isZero();
        assertThat(work.resolve("pair.pub")).exists();

        // One sealed object in a repository, as the archiver stores it.
        Path repo = Files.createDirectories(work.resolve("repo"));
        byte[] content = "compressed segment bytes".repeat(1000).getBytes(StandardCharsets.UTF_8);
        Sealing.load(EncryptionConfig.keyFile(key), Clock.systemUTC()).seal(new LocalStorage(repo))
                .write(SEGMENT, content, Storage.WriteMode.CREATE_NEW);
        Map<String, String> withKey = Map.of("PG_BACKUP_DIR", repo.toString(), "PG_BACKUP_ENCRYPTION_KEY_FILE", key.toString());

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

        CliProcess.Result badName = CliProcess.run(withKey, "decrypt", "../etc/passwd");
        assertThat(badName.exitCode()).isEqualTo(2);
        assertThat(badName.stderr().strip()).doesNotContain("\n").contains("is not a repository key");

        // A group-readable key is refused with one line, exit 1, nothing written.
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));
        CliProcess.Result loose = CliProcess.run(withKey, "decrypt", SEGMENT, "--out", work.resolve("loose.gz").toString());
        assertThat(loose.exitCode()).isEqualTo(1);
        assertThat(loose.stderr().strip()).doesNotContain("\n").contains("has group or other access").contains("chmod 600");
        assertThat(work.resolve("loose.gz")).doesNotExist();
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));

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
