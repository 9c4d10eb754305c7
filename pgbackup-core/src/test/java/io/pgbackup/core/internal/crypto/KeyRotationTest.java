package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.storage.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Rotation on a real directory repository: interrupted after every possible number of record
 * writes, each record still opens with the old key or the new one, and a rerun finishes it;
 * afterwards the old key opens nothing and the new one opens every object, unchanged.
 */
class KeyRotationTest {
    private static final Map<String, String> OBJECTS = Map.of(
            "base/20260101_000000/base.tar.gz", "backup one",
            "base/20260102_000000/base.tar.gz", "backup two",
            "wal_archive/000000010000000000000001.gz", "a segment");

    @TempDir
    Path work;

    @Test
    void interruptedAtAnyWriteEveryRecordStillOpensAndARerunFinishes() throws Exception {
        WrapKey oldKey = key("old.key");
        WrapKey newKey = key("new.key");
        // 3 records: 3 writes in the first pass, 3 in the second; stop after each of 0..5.
        for (int allowed = 0; allowed < 6; allowed++) {
            Path root = Files.createDirectories(work.resolve("repo" + allowed));
            LocalStorage local = new LocalStorage(root);
            write(local, oldKey);
            Storage failing = failingAfter(local, allowed);
            assertThatThrownBy(() -> new KeyRotation(oldKey, newKey).execute(new KeyRotation(oldKey, newKey).plan(List.of(failing))))
                    .isInstanceOf(PgBackupException.class).hasMessageContaining("run key rotate again");
            for (String record : KeyRotation.recordKeys(local)) {
                List<String> ids = KeysetRecord.parse(local.read(record), record).wrapKeyIds();
                assertThat(ids).as("after %d writes", allowed).containsAnyOf(oldKey.id(), newKey.id());
            }
            assertThat(readAll(local, ids(oldKey, newKey, local))).as("after %d writes", allowed).isEqualTo(OBJECTS);

            KeyRotation.Plan rest = new KeyRotation(oldKey, newKey).plan(List.of(local));
            assertThat(rest.count(KeyRotation.Step.DONE)).isEqualTo(Math.max(0, allowed - 3));
            new KeyRotation(oldKey, newKey).execute(rest);
            assertThat(new KeyRotation(oldKey, newKey).plan(List.of(local)).count(KeyRotation.Step.DONE)).isEqualTo(3);

            assertThat(readAll(local, newKey)).isEqualTo(OBJECTS);
            SealingStorage withOld = new SealingStorage(local, new KeyRing(local, Optional.of(oldKey), Clock.systemUTC()));
            assertThatThrownBy(() -> withOld.read("wal_archive/000000010000000000000001.gz"))
                    .isInstanceOf(SealedFormat.NoKeyException.class).hasMessageContaining("not under the configured key " + oldKey.id());
            assertThatThrownBy(() -> withOld.read("base/20260101_000000/base.tar.gz"))
                    .isInstanceOf(SealedFormat.NoKeyException.class);
        }
    }

    @Test
    void aRecordUnderAThirdKeyRefusesTheWholeRotationBeforeAnyChange() throws Exception {
        WrapKey oldKey = key("old.key");
        WrapKey other = key("other.key");
        LocalStorage local = new LocalStorage(Files.createDirectories(work.resolve("repo")));
        write(local, oldKey);
        new SealingStorage(local, new KeyRing(local, Optional.of(other), Clock.systemUTC()))
                .write("base/20260103_000000/base.tar.gz", "three".getBytes(StandardCharsets.UTF_8), Storage.WriteMode.CREATE_NEW);
        List<String> before = snapshot(local);
        assertThatThrownBy(() -> new KeyRotation(oldKey, key("new.key")).plan(List.of(local)))
                .isInstanceOf(PgBackupException.class).hasMessageContaining("key " + other.id())
                .hasMessageContaining("nothing was changed").hasMessageNotContaining("\n");
        assertThat(snapshot(local)).isEqualTo(before);
        assertThatThrownBy(() -> new KeyRotation(oldKey, oldKey)).isInstanceOf(PgBackupException.class)
                .hasMessageContaining("is the configured key");
    }

    @Test
    void rotateCoversTheRepositoryAndTheConfiguredBucketDryRunFirst() throws Exception {
        WrapKey oldKey = key("old.key");
        WrapKey newKey = key("new.key");
        Path root = Files.createDirectories(work.resolve("repo"));
        LocalStorage local = new LocalStorage(root);
        // The bucket through the same Storage seam (a second directory stands in for S3Storage here).
        LocalStorage bucket = new LocalStorage(Files.createDirectories(work.resolve("bucket")));
        write(local, oldKey);
        write(bucket, oldKey);
        io.pgbackup.core.internal.storage.Repository repository = new io.pgbackup.core.internal.storage.Repository(root,
                new SealingStorage(local, new KeyRing(local, Optional.of(oldKey), Clock.systemUTC())));
        DefaultEncryption encryption = new DefaultEncryption(() -> repository, () -> Optional.of(bucket), Clock.systemUTC(), Optional::empty);

        List<String> before = snapshot(local);
        io.pgbackup.core.crypto.Encryption.Rotation dry = encryption.rotateKey(work.resolve("new.key"), true);
        assertThat(dry.records()).hasSize(6).allMatch(r -> r.step().equals("add-wrap"));
        assertThat(dry.records()).filteredOn(r -> r.location().startsWith(bucket.location())).hasSize(3);
        assertThat(snapshot(local)).isEqualTo(before);

        io.pgbackup.core.crypto.Encryption.Rotation done = encryption.rotateKey(work.resolve("new.key"), false);
        assertThat(done.rewritten()).isEqualTo(12);
        assertThat(readAll(local, newKey)).isEqualTo(OBJECTS);
        assertThat(readAll(bucket, newKey)).isEqualTo(OBJECTS);
        assertThat(encryption.rotateKey(work.resolve("new.key"), true).records()).allMatch(r -> r.step().equals("done"));
    }

    @Test
    void rotateHoldsTheBucketsLeaseAndTheRepositoryLockAsCleanupDoes() throws Exception {
        WrapKey oldKey = key("old.key");
        key("new.key");
        Path root = Files.createDirectories(work.resolve("repo"));
        LocalStorage local = new LocalStorage(root);
        LocalStorage bucketDir = new LocalStorage(Files.createDirectories(work.resolve("bucket")));
        write(local, oldKey);
        write(bucketDir, oldKey);
        // While rotate writes the bucket's records, a cleanup there asks for the bucket's lease.
        List<String> cleanupSaw = new java.util.ArrayList<>();
        Storage bucket = new BeforeWrite(bucketDir, () -> {
            try (Storage.Lease l = bucketDir.acquireLease("cleanup")) {
                cleanupSaw.add("granted");
            } catch (Storage.LeaseHeldException e) {
                cleanupSaw.add("refused: " + e.holder());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        io.pgbackup.core.internal.storage.Repository repository = new io.pgbackup.core.internal.storage.Repository(root,
                new SealingStorage(local, new KeyRing(local, Optional.of(oldKey), Clock.systemUTC())));
        DefaultEncryption encryption = new DefaultEncryption(() -> repository, () -> Optional.of(bucket), Clock.systemUTC(), Optional::empty);
        List<String> before = snapshot(local);
        before.addAll(snapshot(bucketDir));

        // A cleanup (or another rotate) holding the bucket's lease: refused in one line naming it, nothing changed.
        try (Storage.Lease cleanup = bucketDir.acquireLease("cleanup, pid 4242")) {
            assertThatThrownBy(() -> encryption.rotateKey(work.resolve("new.key"), false)).isInstanceOf(PgBackupException.class)
                    .hasMessageContaining(bucketDir.location()).hasMessageContaining("cleanup, pid 4242")
                    .hasMessageNotContaining("\n");
        }
        // Another rotate holding the repository's lock: refused too.
        try (Storage.Lease other = local.acquireLease("key rotate, pid 4243")) {
            assertThatThrownBy(() -> encryption.rotateKey(work.resolve("new.key"), false)).isInstanceOf(PgBackupException.class)
                    .hasMessageContaining("key rotate, pid 4243");
        }
        List<String> after = snapshot(local);
        after.addAll(snapshot(bucketDir));
        assertThat(after).isEqualTo(before);

        assertThat(encryption.rotateKey(work.resolve("new.key"), false).rewritten()).isEqualTo(12);
        assertThat(cleanupSaw).isNotEmpty().allMatch(s -> s.startsWith("refused: key rotate, pid "));
    }

    @Test
    void theNewKeyFileMustBeTheOwnersOnly() throws Exception {
        Path file = work.resolve("loose.key");
        KeyGenerator.generate(file, Optional.empty());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> WrapKeys.loadPrivateFile(file, "--new-key-file")).isInstanceOf(PgBackupException.class)
                .hasMessageContaining("--new-key-file " + file).hasMessageContaining("chmod 600");
    }

    private WrapKey key(String name) {
        Path file = work.resolve(name);
        if (!Files.exists(file)) {
            KeyGenerator.generate(file, Optional.empty());
        }
        return WrapKeys.loadPrivateFile(file, "--new-key-file");
    }

    private static void write(Storage local, WrapKey key) throws IOException {
        SealingStorage sealing = new SealingStorage(local, new KeyRing(local, Optional.of(key), Clock.systemUTC()));
        for (var e : OBJECTS.entrySet()) {
            sealing.write(e.getKey(), e.getValue().getBytes(StandardCharsets.UTF_8), Storage.WriteMode.CREATE_NEW);
        }
    }

    /** The key that opens {@code local}'s first record now: each object is read with whichever key its record has. */
    private static Map<String, WrapKey> ids(WrapKey a, WrapKey b, Storage local) throws IOException {
        Map<String, WrapKey> byScope = new java.util.HashMap<>();
        for (String record : KeyRotation.recordKeys(local)) {
            List<String> ids = KeysetRecord.parse(local.read(record), record).wrapKeyIds();
            byScope.put(KeyRing.scopeOf(record), ids.contains(a.id()) ? a : b);
        }
        return byScope;
    }

    private static Map<String, String> readAll(Storage local, Map<String, WrapKey> byScope) throws IOException {
        Map<String, String> read = new java.util.HashMap<>();
        for (String key : OBJECTS.keySet()) {
            WrapKey k = byScope.get(KeyRing.scopeOf(key));
            read.put(key, new String(new SealingStorage(local, new KeyRing(local, Optional.of(k), Clock.systemUTC())).read(key),
                    StandardCharsets.UTF_8));
        }
        return read;
    }

    private static Map<String, String> readAll(Storage local, WrapKey key) throws IOException {
        Map<String, WrapKey> byScope = new java.util.HashMap<>();
        OBJECTS.keySet().forEach(k -> byScope.put(KeyRing.scopeOf(k), key));
        return readAll(local, byScope);
    }

    private static List<String> snapshot(Storage local) throws IOException {
        List<String> all = new java.util.ArrayList<>();
        for (Storage.StoredObject o : local.list("")) {
            all.add(o.key() + ":" + new String(local.read(o.key()), StandardCharsets.ISO_8859_1).hashCode());
        }
        return all;
    }

    /** What runs before each write of a {@link BeforeWrite} storage; it may fail the write. */
    private interface WriteHook {
        void beforeWrite() throws IOException;
    }

    /** The real storage, whose writes fail after {@code allowed} of them: a rotation killed at that point. */
    private static Storage failingAfter(Storage real, int allowed) {
        AtomicInteger left = new AtomicInteger(allowed);
        return new BeforeWrite(real, () -> {
            if (left.getAndDecrement() <= 0) {
                throw new IOException("interrupted");
            }
        });
    }

    /** The real storage, running {@code hook} before each write. */
    private static final class BeforeWrite implements Storage {
        private final Storage real;
        private final WriteHook hook;

        BeforeWrite(Storage real, WriteHook hook) {
            this.real = real;
            this.hook = hook;
        }

        @Override
        public String location() {
            return real.location();
        }

        @Override
        public List<StoredObject> list(String prefix) throws IOException {
            return real.list(prefix);
        }

        @Override
        public Optional<StoredObject> stat(String key) throws IOException {
            return real.stat(key);
        }

        @Override
        public InputStream open(String key) throws IOException {
            return real.open(key);
        }

        @Override
        public ObjectWriter create(String key, WriteMode mode) throws IOException {
            hook.beforeWrite();
            return real.create(key, mode);
        }

        @Override
        public boolean delete(String key) throws IOException {
            return real.delete(key);
        }

        @Override
        public Lease acquireLease(String holder) throws IOException {
            return real.acquireLease(holder);
        }
    }
}
