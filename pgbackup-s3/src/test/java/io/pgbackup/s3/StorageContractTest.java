package io.pgbackup.s3;

import io.pgbackup.core.storage.Storage.LeaseHeldException;
import io.pgbackup.core.storage.Storage.ObjectWriter;
import io.pgbackup.core.storage.Storage.StoredObject;
import io.pgbackup.core.storage.Storage.WriteMode;
import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.s3.testing.S3Server;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every {@link Storage} promises, asserted the same way on a directory ({@link LocalStorage})
 * and on a real S3 server over HTTP ({@link S3Storage} against s3proxy).
 */
class StorageContractTest {
    private static final int MIB = 1024 * 1024;

    @TempDir
    static Path serverDir;
    private static S3Server server;

    @TempDir
    Path localDir;
    private final List<AutoCloseable> opened = new ArrayList<>();
    private String s3Prefix;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.start(serverDir);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @AfterEach
    void closeStorages() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    private Storage storage(String kind) {
        return switch (kind) {
            case "local" -> new LocalStorage(localDir.resolve("repo"));
            case "s3" -> {
                if (s3Prefix == null) {
                    s3Prefix = "repo-" + UUID.randomUUID();
                }
                S3Storage s3 = server.storage(s3Prefix);
                opened.add(s3);
                yield s3;
            }
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** For S3: no multipart upload of this test's storage is left on the server. */
    private void assertNoPendingUpload(String kind) {
        if (kind.equals("s3")) {
            assertThat(server.pendingUploads()).noneMatch(key -> key.startsWith(s3Prefix + "/"));
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "s3"})
    void anObjectIsVisibleOnlyOnceCommitted(String kind) throws IOException {
        Storage storage = storage(kind);
        try (ObjectWriter writer = storage.create("base/20260202_020000/base.tar.gz", WriteMode.REPLACE)) {
            writer.stream().write(bytes("hello "));
            writer.stream().write(bytes("world"));
            assertThat(storage.stat("base/20260202_020000/base.tar.gz")).isEmpty();
            // The contract lets a write in progress show only under a hidden (dot) name.
            assertThat(storage.list("")).allMatch(o -> o.name().startsWith("."));
            writer.commit();
        }
        assertThat(storage.read("base/20260202_020000/base.tar.gz")).isEqualTo(bytes("hello world"));
        assertThat(storage.stat("base/20260202_020000/base.tar.gz")).get()
                .returns(11L, StoredObject::size).returns("base.tar.gz", StoredObject::name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "s3"})
    void closingWithoutCommitDiscardsSmallAndMultipartObjects(String kind) throws IOException {
        Storage storage = storage(kind);
        try (ObjectWriter writer = storage.create("wal_archive/000000010000000000000001.gz", WriteMode.CREATE_NEW)) {
            writer.stream().write(bytes("partial"));
        }
        try (ObjectWriter writer = storage.create("base/20260202_020000/base.tar.gz", WriteMode.REPLACE)) {
            // More than one 8 MiB part: on S3 a multipart upload is under way when the writer is closed.
            writeRandom(writer.stream(), 17 * MIB, 1);
        }
        assertThat(storage.list("")).isEmpty();
        assertThat(storage.stat("base/20260202_020000/base.tar.gz")).isEmpty();
        assertNoPendingUpload(kind);
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "s3"})
    void createNewRefusesAnExistingKeyAndKeepsTheOriginal(String kind) throws IOException {
        Storage storage = storage(kind);
        String key = "wal_archive/000000010000000000000002.gz";
        storage.write(key, bytes("original"), WriteMode.CREATE_NEW);

        assertThatThrownBy(() -> storage.write(key, bytes("other"), WriteMode.CREATE_NEW))
                .isInstanceOf(FileAlreadyExistsException.class);
        try (ObjectWriter writer = storage.create(key, WriteMode.CREATE_NEW)) {
            writeRandom(writer.stream(), 9 * MIB, 2);
            assertThatThrownBy(writer::commit).isInstanceOf(FileAlreadyExistsException.class);
        }

        assertThat(storage.read(key)).isEqualTo(bytes("original"));
        assertNoPendingUpload(kind);
        storage.write(key, bytes("replaced"), WriteMode.REPLACE);
        assertThat(storage.read(key)).isEqualTo(bytes("replaced"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "s3"})
    void listsByPrefixSortedByKey(String kind) throws IOException {
        Storage storage = storage(kind);
        for (String key : List.of("wal_archive/000000010000000000000003.gz", "base/20260203_020000/base.tar.gz",
                "wal_archive/000000010000000000000001.gz", "base/20260202_020000/pgbackup_manifest.json",
                "base/20260202_020000/base.tar.gz", "wal_archive/00000002.history")) {
            storage.write(key, bytes(key), WriteMode.REPLACE);
        }
        assertThat(storage.list("wal_archive/")).extracting(StoredObject::key).containsExactly(
                "wal_archive/000000010000000000000001.gz", "wal_archive/000000010000000000000003.gz",
                "wal_archive/00000002.history");
        assertThat(storage.list("base/20260202")).extracting(StoredObject::key).containsExactly(
                "base/20260202_020000/base.tar.gz", "base/20260202_020000/pgbackup_manifest.json");
        assertThat(storage.list("")).extracting(StoredObject::key).isSorted().hasSize(6);
        assertThat(storage.list("nothing/")).isEmpty();
        assertThat(storage.list("wal_archive/")).allMatch(o -> o.size() == o.key().length() && o.lastModified() != null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "s3"})
    void statAndDelete(String kind) throws IOException {
        Storage storage = storage(kind);
        assertThat(storage.stat("base/x/backup_manifest")).isEmpty();
        storage.write("base/x/backup_manifest", new byte[1234], WriteMode.REPLACE);
        assertThat(storage.stat("base/x/backup_manifest")).get().returns(1234L, StoredObject::size);

        assertThat(storage.delete("base/x/backup_manifest")).isTrue();
        assertThat(storage.delete("base/x/backup_manifest")).isFalse();
        assertThat(storage.stat("base/x/backup_manifest")).isEmpty();
        assertThat(storage.list("base/")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "s3"})
    void theLeaseExcludesASecondHolderUntilReleased(String kind) throws IOException {
        Storage storage = storage(kind);
        Storage other = storage(kind);
        try (Storage.Lease lease = storage.acquireLease("backup, pid 1")) {
            assertThatThrownBy(() -> other.acquireLease("cleanup, pid 2"))
                    .isInstanceOfSatisfying(LeaseHeldException.class, e -> assertThat(e.holder()).isEqualTo("backup, pid 1"));
            assertThat(storage.list("")).isEmpty();
        }
        try (Storage.Lease lease = other.acquireLease("cleanup, pid 2")) {
            assertThatThrownBy(() -> storage.acquireLease("backup, pid 3")).isInstanceOf(LeaseHeldException.class);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "s3"})
    void aFiftyMibObjectWrittenInPartsReadsBackIdentical(String kind) throws Exception {
        Storage storage = storage(kind);
        String written;
        try (ObjectWriter writer = storage.create("base/20260202_020000/base.tar.gz", WriteMode.CREATE_NEW)) {
            written = writeRandom(writer.stream(), 50 * MIB, 3);
            writer.commit();
        }
        assertThat(storage.stat("base/20260202_020000/base.tar.gz")).get().returns(50L * MIB, StoredObject::size);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (InputStream in = storage.open("base/20260202_020000/base.tar.gz")) {
            byte[] buffer = new byte[100_000];
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
        }
        assertThat(HexFormat.of().formatHex(sha.digest())).isEqualTo(written);
        assertNoPendingUpload(kind);
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "s3"})
    void openingAMissingKeyIsNoSuchFile(String kind) {
        Storage storage = storage(kind);
        assertThatThrownBy(() -> storage.open("wal_archive/000000010000000000000009.gz"))
                .isInstanceOf(NoSuchFileException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "s3"})
    void anObjectClosedEarlyCanBeReadAgain(String kind) throws IOException {
        Storage storage = storage(kind);
        try (ObjectWriter writer = storage.create("big", WriteMode.REPLACE)) {
            writeRandom(writer.stream(), 3 * MIB, 4);
            writer.commit();
        }
        try (InputStream in = storage.open("big")) {
            assertThat(in.readNBytes(10)).hasSize(10);
        }
        assertThat(storage.read("big")).hasSize(3 * MIB);
    }

    /** Writes {@code size} seeded random bytes in uneven pieces; returns their SHA-256. */
    static String writeRandom(OutputStream out, int size, long seed) throws IOException {
        Random random = new Random(seed);
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        byte[] chunk = new byte[65_521];
        for (int left = size; left > 0; ) {
            int n = Math.min(left, 1 + random.nextInt(chunk.length));
            random.nextBytes(chunk);
            out.write(chunk, 0, n);
            sha.update(chunk, 0, n);
            left -= n;
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
