package io.pgbackup.core.postgres;

import io.pgbackup.core.internal.postgres.PgConnector;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PG_HOST as a socket directory, the way libpq takes it: parsing, validation and the messages that name it. */
class UnixSocketConfigTest {
    @TempDir
    Path work;

    @Test
    void aHostBeginningWithASlashIsASocketDirectoryAndNeedsNoPassword() {
        PgBackupConfig config = PgBackupConfig.fromEnvironment(Map.of("PG_HOST", "/var/run/postgresql/",
                "PG_PORT", "5433", "PG_USER_NAME", "postgres", "PG_DB_NAME", "postgres"));

        assertThat(config.host()).isEqualTo("/var/run/postgresql");
        assertThat(config.socketDirectory()).contains(Path.of("/var/run/postgresql"));
        assertThat(config.socketPath()).contains(Path.of("/var/run/postgresql/.s.PGSQL.5433"));
        assertThat(config.serverDescription()).isEqualTo("socket /var/run/postgresql port 5433");
        assertThat(config.hasPassword()).isFalse();
        assertThat(config.childEnvironment()).isEmpty();
    }

    @Test
    void tcpHostsStayAsTheyWere() {
        PgBackupConfig config = PgBackupConfig.builder().host("db.example.com").port(5432).build();
        assertThat(config.socketDirectory()).isEmpty();
        assertThat(config.socketPath()).isEmpty();
        assertThat(config.serverDescription()).isEqualTo("db.example.com:5432");
        assertThat(PgBackupConfig.builder().build().serverDescription()).isEqualTo("127.0.0.1:5432");
        assertThat(PgBackupConfig.builder().host("::1").build().serverDescription()).isEqualTo("[::1]:5432");
    }

    @Test
    void aSocketPathTooLongForSunPathIsRefusedNamingTheVariable() {
        String dir = "/" + "d".repeat(100);
        assertThatThrownBy(() -> PgBackupConfig.fromEnvironment(Map.of("PG_HOST", dir)))
                .isInstanceOfSatisfying(PgBackupException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG);
                    assertThat(e.getMessage()).startsWith("PG_HOST='" + dir + "' is too long for a socket directory")
                            .contains("at most 107").doesNotContain("\n");
                });
    }

    @Test
    void aMissingSocketFailsInOneLineNamingTheSocket() {
        Path dir = work.resolve("nothing-listens-here");
        PgBackupConfig config = PgBackupConfig.builder().host(dir.toString()).port(5999).user("postgres")
                .database("postgres").build();

        assertThatThrownBy(() -> new PgConnector(config).open().close())
                .isInstanceOfSatisfying(PgBackupException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CONNECTION_FAILED);
                    assertThat(e.getMessage())
                            .startsWith("cannot connect to PostgreSQL at socket " + dir + " port 5999 as postgres")
                            .contains(dir + "/.s.PGSQL.5999")
                            .doesNotContain("\n").doesNotContain("Unable to parse URL");
                });
    }
}
