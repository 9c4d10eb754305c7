package io.pgbackup.s3;

import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.storage.Storage.LeaseHeldException;
import io.pgbackup.core.storage.Storage.ObjectWriter;
import io.pgbackup.core.storage.Storage.StoredObject;
import io.pgbackup.core.storage.Storage.WriteMode;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.s3.testing.S3Server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** S3Storage's behaviour beyond the common contract, against s3proxy over HTTP. */
class S3StorageTest {
    private static final int MIB = 1024 * 1024;

    @TempDir
    Path dir;
    private S3Server server;
    private S3Storage storage;

    @BeforeEach
    void start() throws Exception {
        server = S3Server.start(dir);
        storage = server.storage("repo");
    }

    @AfterEach
    void stop() throws Exception {
        storage.close();
        server.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void locationAndKeysUnderThePrefix() throws IOException {
        assertThat(storage.location()).isEqualTo("s3://pgbackup-test/repo");
        try (S3Storage root = server.storage("")) {
            assertThat(root.location()).isEqualTo("s3://pgbackup-test");
            storage.write("wal_archive/a.gz", bytes("a"), WriteMode.REPLACE);
            assertThat(root.list("")).extracting(StoredObject::key).containsExactly("repo/wal_archive/a.gz");
        }
        assertThatThrownBy(() -> storage.write("../escape", bytes("x"), WriteMode.REPLACE))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aStoppedServerFailsTheUploadWithOneLineAndLeavesNothingVisible() throws Exception {
        ObjectWriter writer = storage.create("base/20260202_020000/base.tar.gz", WriteMode.CREATE_NEW);
        byte[] chunk = new byte[MIB];
        new Random(5).nextBytes(chunk);
        for (int i = 0; i < 12; i++) {
            writer.stream().write(chunk); // one part sent, the next one filling
        }
        server.stop();
        IOException failure = null;
        try {
            for (int i = 0; i < 40; i++) {
                writer.stream().write(chunk);
            }
            writer.commit();
        } catch (IOException e) {
            failure = e;
        } finally {
            writer.close();
        }
        assertThat(failure).isNotNull();
        assertThat(failure.getMessage())
                .startsWith("cannot reach " + server.endpoint() + " for s3://pgbackup-test/repo/base/20260202_020000/base.tar.gz")
                .doesNotContain("\n").doesNotContain("\tat ");

        server.start();
        assertThat(storage.stat("base/20260202_020000/base.tar.gz")).isEmpty();
        assertThat(storage.list("")).isEmpty();
        // The abort could not reach the server either, so the upload is left for
        // cleanupIncompleteUploads; it is not asserted here because s3proxy's backend cannot
        // list uploads holding the part file that the stop cut short.
    }

    @Test
    void hostileKeysInAListingAreSkippedWithAWarning() throws Exception {
        storage.write("wal_archive/000000010000000000000001.gz", bytes("ok"), WriteMode.REPLACE);
        // Planted behind S3Storage's back, as another tool could. (s3proxy's filesystem backend
        // cannot hold '..' or leading '/' keys, and cannot list control characters; the
        // predicate's unit test below covers those.)
        String tooLong = "repo/wal_archive/" + "d/".repeat(510) + "f";
        server.blobStore().putBlob(S3Server.BUCKET, server.blobStore().blobBuilder(tooLong).payload(new byte[1]).build());
        server.blobStore().putBlob(S3Server.BUCKET, server.blobStore().blobBuilder("repo/wal_archive/").payload(new byte[0]).build());

        String log = captureStderr(() -> assertThat(storage.list("wal_archive/")).extracting(StoredObject::key)
                .containsExactly("wal_archive/000000010000000000000001.gz"));
        assertThat(log).contains("WARN").contains("ignoring the object 'repo/wal_archive/d/d/")
                .contains("its key is not one pgbackup writes (longer than 1024 bytes)");
    }

    @Test
    void hostileKeysAreRecognised() {
        assertThat(S3Keys.hostileReason("wal_archive/000000010000000000000001.gz")).isNull();
        assertThat(S3Keys.hostileReason("base/../../etc/passwd")).isEqualTo("'..' segment");
        assertThat(S3Keys.hostileReason("base/./x")).isEqualTo("'.' segment");
        assertThat(S3Keys.hostileReason("/etc/passwd")).isEqualTo("leading /");
        assertThat(S3Keys.hostileReason("base//x")).isEqualTo("empty segment");
        assertThat(S3Keys.hostileReason("base/x/")).isEqualTo("empty segment");
        assertThat(S3Keys.hostileReason("base/\u001b[31mred")).isEqualTo("control character");
        assertThat(S3Keys.hostileReason("x".repeat(1025))).isEqualTo("longer than 1024 bytes");
        assertThat(S3Keys.printable("a\u0007b")).isEqualTo("'a\\u0007b'");
    }

    @Test
    void wrongCredentialsAreOneLineAccessDenied() throws Exception {
        try (S3Storage denied = new S3Storage(server.settings("repo"), server.wrongCredentials())) {
            assertThatThrownBy(() -> denied.list("base/"))
                    .hasMessage("access denied to s3://pgbackup-test/repo/base/: check the credentials and the bucket policy");
            assertThatThrownBy(() -> denied.write("wal_archive/x.gz", bytes("x"), WriteMode.CREATE_NEW))
                    .hasMessageStartingWith("access denied to s3://pgbackup-test/repo/wal_archive/x.gz")
                    .hasMessageNotContaining("not-the-secret").hasMessageNotContaining("\n");
        }
    }

    @Test
    void anUnreachableEndpointIsNamed() throws Exception {
        server.stop();
        assertThatThrownBy(() -> storage.open("wal_archive/x.gz"))
                .hasMessage("cannot reach " + server.endpoint() + " for s3://pgbackup-test/repo/wal_archive/x.gz"
                        + " (connection refused): is the S3 endpoint up?");
    }

    @Test
    void deleteAllRemovesManyKeysMissingOnesIncluded() throws IOException {
        for (String key : List.of("a", "b/c", "b/d")) {
            storage.write(key, bytes(key), WriteMode.REPLACE);
        }
        assertThat(storage.deleteAll(List.of("a", "b/c", "b/d", "missing"))).isEqualTo(4);
        assertThat(storage.list("")).isEmpty();
        assertThat(storage.deleteAll(List.of())).isZero();
    }

    @Test
    void incompleteUploadsNeedAServerThatListsThem() {
        // s3proxy does not implement ListMultipartUploads; AWS, MinIO and Ceph do.
        assertThatThrownBy(() -> storage.cleanupIncompleteUploads(Duration.ofHours(6)))
                .hasMessageStartingWith(server.endpoint() + " does not implement the request on s3://pgbackup-test/repo/")
                .hasMessageNotContaining("\n");
    }

    @Test
    void aDeadHoldersLeaseBlocksOnlyUntilItExpires() throws Exception {
        // What a holder killed a moment ago leaves: a lease of 1 s that nobody renews.
        storage.write(S3Storage.LEASE_KEY, bytes("{\"holder\":\"backup, pid 99\",\"owner\":\"dead\","
                + "\"expiresAt\":\"" + Instant.now().plusSeconds(1) + "\",\"ttlSeconds\":1}"), WriteMode.CREATE_NEW);
        assertThatThrownBy(() -> storage.acquireLease("cleanup, pid 100"))
                .isInstanceOfSatisfying(LeaseHeldException.class, e -> assertThat(e.holder()).isEqualTo("backup, pid 99"));

        Storage.Lease[] taken = new Storage.Lease[1];
        PgCluster.await(Duration.ofSeconds(20), "the dead holder's lease to expire", () -> {
            try {
                taken[0] = storage.acquireLease("cleanup, pid 100");
                return true;
            } catch (LeaseHeldException e) {
                return false;
            }
        });
        taken[0].close();
        assertThat(storage.stat(S3Storage.LEASE_KEY)).isEmpty();
    }

    @Test
    void aLiveHolderRenewsItsLeasePastItsLifetime() throws Exception {
        try (S3Storage shortLived = new S3Storage(server.settings("repo"), server.credentials(), Duration.ofSeconds(2),
                Clock.systemUTC())) {
            try (Storage.Lease lease = shortLived.acquireLease("backup, pid 1")) {
                Instant first = shortLived.stat(S3Storage.LEASE_KEY).orElseThrow().lastModified();
                // Rewritten 3 s after it was taken: well past the 2 s lifetime without renewal.
                PgCluster.await(Duration.ofSeconds(20), "the lease to be renewed", () -> shortLived.stat(S3Storage.LEASE_KEY)
                        .map(o -> !o.lastModified().isBefore(first.plusSeconds(3))).orElse(false));
                assertThatThrownBy(() -> storage.acquireLease("cleanup, pid 2"))
                        .isInstanceOfSatisfying(LeaseHeldException.class, e -> assertThat(e.holder()).isEqualTo("backup, pid 1"));
                assertThat(((S3Lease) lease).lost()).isFalse();
            }
            assertThat(shortLived.stat(S3Storage.LEASE_KEY)).isEmpty();
        }
    }

    @Test
    void releasingDeletesTheLeaseOnlyIfStillOurs() throws Exception {
        Storage.Lease lease = storage.acquireLease("backup, pid 1");
        // Taken over behind our back (as after an expiry while we were stalled).
        String theirs = "{\"holder\":\"cleanup, pid 2\",\"owner\":\"theirs\",\"expiresAt\":\""
                + Instant.now().plusSeconds(600) + "\",\"ttlSeconds\":600}";
        storage.write(S3Storage.LEASE_KEY, bytes(theirs), WriteMode.REPLACE);
        lease.close();
        assertThat(storage.read(S3Storage.LEASE_KEY)).isEqualTo(bytes(theirs));
    }

    @Test
    void anObjectOfExactlyOnePartIsOnePut() throws IOException {
        try (ObjectWriter writer = storage.create("one-part", WriteMode.CREATE_NEW)) {
            writer.stream().write(new byte[8 * MIB]);
            writer.commit();
        }
        assertThat(storage.stat("one-part")).map(StoredObject::size).isEqualTo(Optional.of(8L * MIB));
        assertThat(server.pendingUploads()).isEmpty();
    }

    private static String captureStderr(ThrowingRunnable body) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }
}
