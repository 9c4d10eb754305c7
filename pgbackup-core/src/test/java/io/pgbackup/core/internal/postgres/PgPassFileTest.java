package io.pgbackup.core.internal.postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The password file read as libpq reads it, for pgbackup's own replication connections. */
class PgPassFileTest {
    @TempDir
    Path dir;

    private PgPassFile file(String text, String mode) throws Exception {
        Path f = dir.resolve("pgpass");
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return PgPassFile.of(Map.of("PGPASSFILE", f.toString()));
    }

    @Test
    void firstMatchingLineWinsWithWildcardsAndEscapes() throws Exception {
        PgPassFile pgpass = file("# comment\nother:5432:*:backup:wrong\n127.0.0.1:5432:replication:backup:p\\:w\\\\d\n"
                + "*:*:*:backup:fallback\n", "rw-------");
        assertThat(pgpass.lookup("127.0.0.1", 5432, "replication", "backup")).contains("p:w\\d");
        assertThat(pgpass.lookup("db.example", 6543, "postgres", "backup")).contains("fallback");
        assertThat(pgpass.lookup("127.0.0.1", 5432, "replication", "nobody")).isEmpty();
    }

    @Test
    void aSocketDirectoryMatchesLocalhost() throws Exception {
        PgPassFile pgpass = file("localhost:5433:replication:backup:sock\n", "rw-------");
        assertThat(pgpass.lookup("/var/run/postgresql", 5433, "replication", "backup")).contains("sock");
    }

    @Test
    void aFileOthersMayReadIsIgnoredAsLibpqIgnoresIt() throws Exception {
        PgPassFile pgpass = file("*:*:*:*:secret\n", "rw-r--r--");
        assertThat(pgpass.lookup("127.0.0.1", 5432, "replication", "backup")).isEmpty();
    }

    @Test
    void aMissingFileIsNoPassword() {
        assertThat(PgPassFile.of(Map.of("PGPASSFILE", dir.resolve("absent").toString()))
                .lookup("127.0.0.1", 5432, "replication", "backup")).isEmpty();
    }
}
