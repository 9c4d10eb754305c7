package io.pgbackup.core.testing;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The second fixture: a PostgreSQL server in a container, backed up over TCP by the local
 * pg_basebackup, as pgbackup meets a server on another host. Skipped where there is no Docker
 * engine (these CI machines); the local-binaries fixture covers the same paths there.
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerBackupTest {
    private static final String ALLOW_REPLICATION =
            "echo 'host replication all all scram-sha-256' >> \"$PGDATA/pg_hba.conf\"\n";

    @Container
    @SuppressWarnings("resource")
    static final PostgreSQLContainer<?> SERVER = new PostgreSQLContainer<>("postgres:" + localMajorVersion())
            .withCommand("postgres", "-c", "wal_level=replica", "-c", "max_wal_senders=5")
            .withCopyToContainer(org.testcontainers.images.builder.Transferable.of(ALLOW_REPLICATION, 0755),
                    "/docker-entrypoint-initdb.d/allow-replication.sh");

    @TempDir
    Path work;

    @Test
    void backsUpAServerInAContainerOverTcp() throws Exception {
        Path repo = work.resolve("repo");
        new Repository(repo).createLayout();
        PgBackupConfig config = PgBackupConfig.builder()
                .host(SERVER.getHost()).port(SERVER.getFirstMappedPort())
                .user(SERVER.getUsername()).password(SERVER.getPassword()).database(SERVER.getDatabaseName())
                .backupDir(repo).pgBin(PgCluster.binaries().binDir()).build();

        BackupInfo backup = PgBackup.create(config).backups().backup(BackupOptions.defaults());

        assertThat(Files.size(Path.of(backup.location()).resolve("base.tar.gz"))).isPositive();
        assertThat(backup.manifest().systemIdentifier()).isNotBlank();
    }

    /** The container runs the same major version as the local pg_basebackup, which must not be older than the server. */
    private static String localMajorVersion() {
        Path bin = PgCluster.binaries().binDir();
        String parent = bin.getParent() == null ? "" : bin.getParent().getFileName().toString();
        return parent.matches("\\d+") ? parent : "15";
    }

}
