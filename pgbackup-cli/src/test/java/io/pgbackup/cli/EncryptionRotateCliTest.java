package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.internal.crypto.KeyGenerator;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17 items 3 and 4 through the jar, on one cluster: a plain backup, then encryption turned
 * on and a sealed backup (list, verify, status and cleanup across the mix); turning it off again
 * refused; key rotate (dry run, run) after which the old key is refused and the new one opens both
 * backups and restores with equal rows.
 */
class EncryptionRotateCliTest {
    @TempDir
    Path work;

    @Test
    void mixedRepositoryThenRotationOldKeyRefusedNewKeyRestoresBoth() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            PgCluster pg = source.cluster();
            Map<String, String> plainEnv = pg.environment(source.repository());
            pg.execute("CREATE TABLE t (id int PRIMARY KEY, note text)",
                    "INSERT INTO t SELECT g, 'rotate-marker ' || g FROM generate_series(1, 300) g");
            CliProcess.Result plain = CliProcess.run(plainEnv, "backup");
            assertThat(plain.exitCode()).as(plain.all()).isZero();
            String plainId = plain.stdout().split(" ")[1];
            source.switchAndAwaitArchived();

            // Encryption turned on for the existing repository.
            Path oldKey = work.resolve("old.key");
            Path newKey = work.resolve("new.key");
            String oldId = KeyGenerator.generate(oldKey, Optional.empty()).keyId();
            String newId = KeyGenerator.generate(newKey, Optional.empty()).keyId();
            Map<String, String> oldEnv = with(plainEnv, oldKey);
            // As the README says: init with the key renders archive_wal.sh for the archiver, which seals.
            // (A script rendered without the key refuses plain WAL once the repository holds sealed objects.)
            Map<String, String> asyncEnv = new java.util.HashMap<>(oldEnv);
            asyncEnv.put("PG_BACKUP_ARCHIVER", "async");
            CliProcess.Result reinit = CliProcess.run(asyncEnv, "init");
            assertThat(reinit.exitCode()).as(reinit.all()).isZero();
            pg.execute("INSERT INTO t SELECT g, 'rotate-marker ' || g FROM generate_series(301, 600) g");
            CliProcess.Result sealed = CliProcess.run(oldEnv, "backup");
            assertThat(sealed.exitCode()).as(sealed.all()).isZero();
            String sealedId = sealed.stdout().split(" ")[1];
            String atSealed = fingerprint(pg, "t");
            source.switchAndAwaitArchived();
            Path sealedTar = source.repository().resolve("base").resolve(sealedId).resolve("base.tar.gz");
            assertThat(Files.readAllBytes(sealedTar)).startsWith((byte) 0x89, (byte) 'P', (byte) 'G', (byte) 'B');

            CliProcess.Result list = CliProcess.run(oldEnv, "list");
            assertThat(list.stdout()).as(list.all()).contains(plainId).contains(sealedId);
            CliProcess.Result verify = CliProcess.run(oldEnv, "verify", "--all");
            assertThat(verify.exitCode()).as(verify.all()).isZero();
            assertThat(verify.stdout()).contains("backup " + plainId + ": OK").contains("backup " + sealedId + ": OK");
            JsonNode enc = new ObjectMapper().readTree(CliProcess.run(oldEnv, "status", "--json").stdout()).path("encryption");
            assertThat(enc.path("configuredKeyId").asText()).isEqualTo(oldId);
            assertThat(enc.path("configuredKeyAmong").asBoolean()).isTrue();
            assertThat(enc.path("recordsByWrapKey").path(oldId).asLong()).isEqualTo(enc.path("records").asLong()).isPositive();
            assertThat(CliProcess.run(oldEnv, "status").stdout()).contains("Encryption at rest").contains("key " + oldId + ": ");

            // Turning it off again: a backup without the key is refused, with one line, and stores nothing.
            List<String> before = files(source.repository().resolve("base"));
            CliProcess.Result off = CliProcess.run(plainEnv, "backup");
            assertThat(off.exitCode()).as(off.all()).isEqualTo(1);
            assertThat(off.stderr().strip()).contains("backup refused").contains("backup " + sealedId).contains("PG_BACKUP_ENCRYPTION_KEY_FILE")
                    .doesNotContain("\n");
            assertThat(files(source.repository().resolve("base"))).isEqualTo(before);
            // cleanup without the key still reads both backups (the sealed one through its plain index).
            CliProcess.Result cleanup = CliProcess.run(plainEnv, "cleanup");
            assertThat(cleanup.exitCode()).as(cleanup.all()).isZero();
            assertThat(CliProcess.run(plainEnv, "list").stdout()).contains(plainId).contains(sealedId);

            // Rotation: the new key file must be the owner's only; the dry run changes nothing.
            Files.setPosixFilePermissions(newKey, PosixFilePermissions.fromString("rw-r--r--"));
            CliProcess.Result loose = CliProcess.run(oldEnv, "key", "rotate", "--new-key-file", newKey.toString());
            assertThat(loose.exitCode()).isEqualTo(1);
            assertThat(loose.stderr().strip()).contains("chmod 600").doesNotContain("\n");
            Files.setPosixFilePermissions(newKey, PosixFilePermissions.fromString("rw-------"));
            List<String> keysBefore = keysetContents(source.repository());
            CliProcess.Result dry = CliProcess.run(oldEnv, "key", "rotate", "--new-key-file", newKey.toString(), "--dry-run");
            assertThat(dry.exitCode()).as(dry.all()).isZero();
            assertThat(dry.stdout()).contains("from key " + oldId + " to key " + newId).contains("add-wrap")
                    .contains("base/" + sealedId + "/keys/").contains("dry run: nothing was changed");
            assertThat(keysetContents(source.repository())).isEqualTo(keysBefore);
            CliProcess.Result rotate = CliProcess.run(oldEnv, "key", "rotate", "--new-key-file", newKey.toString());
            assertThat(rotate.exitCode()).as(rotate.all()).isZero();
            assertThat(rotate.stdout()).contains("key rotate done").contains("wrapped under key " + newId + " only");
            for (Path key : List.of(oldKey, newKey)) {
                String secret = new ObjectMapper().readTree(Files.readString(key)).path("key").get(0).path("keyData").path("value").asText();
                assertThat(secret).isNotEmpty();
                assertThat(dry.all() + rotate.all()).doesNotContain(secret);
            }
            CliProcess.Result again = CliProcess.run(oldEnv, "key", "rotate", "--new-key-file", newKey.toString(), "--dry-run");
            assertThat(again.stdout()).doesNotContain("add-wrap").doesNotContain("drop-old-wraps").contains("done");
            // As the README says after a rotation: the setting points at the new key, init renders it into the scripts, and
            // the archiver started with the old key is restarted (else WAL it archives from now on is sealed under the old key).
            Map<String, String> newAsync = new HashMap<>(with(plainEnv, newKey));
            newAsync.put("PG_BACKUP_ARCHIVER", "async");
            // init stops an archiver still running with the old key (ArchiverTest covers that it does).
            CliProcess.Result reinitNew = CliProcess.run(newAsync, "init");
            assertThat(reinitNew.exitCode()).as(reinitNew.all()).isZero();
            // WAL the old key's archiver sealed between the rotation and init's stop is under the old key only:
            // the README's second rotation re-wraps those keysets (a no-op when there were none).
            CliProcess.Result stragglers = CliProcess.run(oldEnv, "key", "rotate", "--new-key-file", newKey.toString());
            assertThat(stragglers.exitCode()).as(stragglers.all()).isZero();

            // The old key opens nothing: restore refused in one line, nothing written.
            Path refusedDir = work.resolve("refused");
            CliProcess.Result old = CliProcess.run(oldEnv, "restore", sealedId, "--target", "immediate", "--target-dir", refusedDir.toString());
            assertThat(old.exitCode()).as(old.all()).isEqualTo(1);
            // (a [WARN] log line of the catalog may precede it; the command's own message is one line)
            // With the old key not even the plain backup lists (the inventory of plain objects is sealed
            // under the new key now): the one line names the key the repository uses and the configured one.
            assertThat(old.stderr().lines().filter(l -> l.startsWith("pgbackup: ")).toList()).singleElement().asString()
                    .contains("wrapped under key " + newId).contains("not under the configured key " + oldId)
                    .doesNotContain("there are no backups");
            assertThat(old.stderr()).doesNotContain("Exception");
            assertThat(refusedDir).doesNotExist();
            Map<String, String> newEnv = with(plainEnv, newKey);
            JsonNode rotated = new ObjectMapper().readTree(CliProcess.run(newEnv, "status", "--json").stdout()).path("encryption");
            assertThat(rotated.path("recordsByWrapKey").has(oldId)).isFalse();
            assertThat(rotated.path("recordsWithoutConfiguredKey").asLong()).isZero();

            // The new key opens both kinds (verify reads every file) and restores; rows equal. (EncryptionClusterTest
            // restores a plain backup in a mixed repository by PITR; here one restore proves the rotated key.)
            CliProcess.Result verifyNew = CliProcess.run(newEnv, "verify", "--all");
            assertThat(verifyNew.exitCode()).as(verifyNew.all()).isZero();
            assertThat(verifyNew.stdout()).contains("backup " + plainId + ": OK").contains("backup " + sealedId + ": OK");
            pg.stop();
            Path target = work.resolve("restored");
            CliProcess.Result r = CliProcess.run(newEnv, "restore", sealedId, "--target", "immediate", "--target-dir", target.toString());
            assertThat(r.exitCode()).as(r.all()).isZero();
            try (PgCluster copy = PgCluster.startExisting(target, work.resolve("run-restored"), pg.password())) {
                copy.awaitPromoted(Duration.ofMinutes(2));
                assertThat(fingerprint(copy, "t")).isEqualTo(atSealed);
            }
        }
    }

    private static Map<String, String> with(Map<String, String> env, Path key) {
        Map<String, String> e = new HashMap<>(env);
        e.put("PG_BACKUP_ENCRYPTION_KEY_FILE", key.toString());
        return e;
    }

    private static List<String> files(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.map(Path::toString).sorted().toList();
        }
    }

    private static List<String> keysetContents(Path repo) throws Exception {
        try (Stream<Path> s = Files.walk(repo)) {
            return s.filter(p -> p.getParent().getFileName().toString().equals("keys")).sorted().map(p -> {
                try {
                    return p + Files.readString(p);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        }
    }
}
