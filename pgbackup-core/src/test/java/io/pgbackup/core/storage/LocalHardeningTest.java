package io.pgbackup.core.storage;

import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.s3.S3Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Issue 16, item 10, in the library: the lock file's mode, the directory check, the endpoint warning. */
class LocalHardeningTest {
    @TempDir
    Path dir;

    /** Issue 20: the public factory embedders use gives the library's own local storage, files below the root. */
    @Test
    void storageLocalKeepsOwnerOnlyFilesBelowTheRoot() throws Exception {
        Storage storage = Storage.local(dir);
        storage.write("base/x/manifest.json", "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8), Storage.WriteMode.CREATE_NEW);

        assertThat(storage).isInstanceOf(LocalStorage.class);
        assertThat(dir.resolve("base/x/manifest.json")).hasContent("{}");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("base/x/manifest.json")))).isEqualTo("rw-------");
        assertThat(storage.list("base/")).extracting(Storage.StoredObject::key).containsExactly("base/x/manifest.json");
    }

    @Test
    void theLockFileIsOwnerOnlyWhateverItWasBefore() throws Exception {
        try (Storage.Lease ignored = new LocalStorage(dir).acquireLease("backup, pid 1")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(".pgbackup.lock")))).isEqualTo("rw-------");
        }
        // One an earlier version created under a umask of 022.
        Path other = Files.createDirectory(dir.resolve("old"));
        Files.writeString(other.resolve(".pgbackup.lock"), "");
        Files.setPosixFilePermissions(other.resolve(".pgbackup.lock"), PosixFilePermissions.fromString("rw-r--r--"));
        try (Storage.Lease ignored = new LocalStorage(other).acquireLease("backup, pid 1")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(other.resolve(".pgbackup.lock")))).isEqualTo("rw-------");
        }
    }

    @Test
    void theLeaseIsRefusedOnAGroupWritableRepositoryBeforeAnythingIsWritten() throws Exception {
        Repository repository = new Repository(dir);
        repository.createLayout();
        Files.setPosixFilePermissions(repository.baseDir(), PosixFilePermissions.fromString("rwxrwx---"));

        assertThatThrownBy(() -> repository.lease("backup", Clock.systemUTC()))
                .isInstanceOfSatisfying(PgBackupException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.REFUSED))
                .hasMessageStartingWith(repository.baseDir().toRealPath() + " is writable by its group");
        assertThat(dir.resolve(".pgbackup.lock")).doesNotExist();

        Files.setPosixFilePermissions(repository.baseDir(), PosixFilePermissions.fromString("rwx------"));
        repository.lease("backup", Clock.systemUTC()).close();
    }

    /** The ownership half of the guard; its real-path half too: base/ is a link to a directory root owns. */
    @Test
    void theLeaseIsRefusedWhenALayoutDirectoryBelongsToAnotherUser() throws Exception {
        Path rootOwned = Path.of("/usr/share");
        org.junit.jupiter.api.Assumptions.assumeTrue(((Integer) Files.getAttribute(rootOwned, "unix:uid")).longValue() != currentUid(),
                "runs as the owner of /usr/share (root): no directory of another user to point at");
        Repository repository = new Repository(dir);
        repository.createLayout();
        Files.delete(repository.baseDir());
        Files.createSymbolicLink(repository.baseDir(), rootOwned);

        assertThatThrownBy(() -> repository.lease("backup", Clock.systemUTC()))
                .isInstanceOfSatisfying(PgBackupException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.REFUSED))
                .hasMessageStartingWith(rootOwned.toRealPath() + " belongs to uid 0, not to the user running pgbackup")
                .hasMessageContaining("nothing was changed");
        assertThat(dir.resolve(".pgbackup.lock")).doesNotExist();
    }

    private static long currentUid() {
        return new com.sun.security.auth.module.UnixSystem().getUid();
    }

    @Test
    void plainHttpIsWarnedAboutUnlessTheEndpointIsLoopback() {
        for (String ok : new String[]{"http://127.0.0.1:9000", "http://127.8.9.10", "http://localhost:9000", "http://[::1]:9000",
                "https://s3.example.com", "https://10.0.0.5:9000"}) {
            assertThat(S3Settings.compatible(URI.create(ok), "b", "", "us-east-1").plainHttpWarning()).as(ok).isEmpty();
        }
        for (String bad : new String[]{"http://s3.example.com", "http://10.0.0.5:9000", "http://[fd00::2]:9000", "HTTP://minio:9000"}) {
            assertThat(S3Settings.compatible(URI.create(bad), "b", "", "us-east-1").plainHttpWarning()).as(bad).get().asString()
                    .contains("is plain http:// to another machine").endsWith("use https://");
        }
        assertThat(S3Settings.aws("b", "", "eu-west-1").plainHttpWarning()).isEmpty();
    }
}
