package io.pgbackup.core.sync;

import io.pgbackup.core.sync.RemoteSyncer.SyncResult;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.testing.SshServer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spec's two inline syncs against a real sshd: the base backup copied after {@code backup},
 * and each WAL segment copied by archive_wal.sh; with sshd stopped both only warn.
 */
class InlineSyncClusterTest {
    @TempDir
    Path work;

    @Test
    void backupAndArchivedWalReachTheRemoteAndAStoppedRemoteOnlyWarns() throws Exception {
        Assumptions.assumeTrue(SshServer.available(), "sshd, ssh, ssh-keygen or rsync is not installed");
        Path repo = work.resolve("repo");
        Path remote = work.resolve("remote");
        try (SshServer ssh = SshServer.start(work.resolve("sshd"));
             PgCluster cluster = PgCluster.create(work.resolve("pg"))) {
            PgBackupConfig config = cluster.config(repo).toBuilder()
                    .remote(ssh.host(), ssh.user(), remote.toString(), ssh.port()).sshCommand(ssh.sshCommand()).build();
            PgBackup pg = PgBackup.create(config);
            pg.archiveSetup().init();
            cluster.appendSettings(Map.of("archive_mode", "on",
                    "archive_command", "'" + pg.archiveSetup().archiveCommand().replace("'", "''") + "'"));
            cluster.restart();
            cluster.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 10000) g");

            BackupInfo first = pg.backups().backup(BackupOptions.defaults());
            assertThat(first.warnings()).isEmpty();
            for (var file : first.manifest().files()) {
                assertThat(sha256(remote.resolve("base").resolve(first.id()).resolve(file.name()))).isEqualTo(file.sha256());
            }
            assertThat(new Repository(remote).backupIds()).containsExactly(first.id());

            // archive_wal.sh copies each segment in the background, with PG_BACKUP_SSH_COMMAND's options.
            String segment = cluster.switchWal();
            PgCluster.await(Duration.ofMinutes(1), "inline WAL sync of " + segment,
                    () -> Files.exists(remote.resolve("wal_archive/" + segment + ".gz")));
            assertThat(sha256(remote.resolve("wal_archive/" + segment + ".gz")))
                    .isEqualTo(sha256(repo.resolve("wal_archive/" + segment + ".gz")));

            ssh.stop();
            BackupInfo second = pg.backups().backup(BackupOptions.defaults());
            assertThat(second.warnings()).singleElement().asString()
                    .startsWith("remote copy failed, the backup is kept locally and 'pgbackup sync' will copy it: sync to ")
                    .contains("refused");
            assertThat(pg.backups().list()).extracting(BackupInfo::id).containsExactly(first.id(), second.id());
            assertThat(new Repository(remote).backupIds()).containsExactly(first.id());
            String missed = cluster.switchWal();
            PgCluster.await(Duration.ofMinutes(1), "remote-sync-failed warning for " + missed, () ->
                    Files.readString(repo.resolve("logs/wal_archive.log")).contains("WARNING " + missed + " remote-sync-failed"));
            assertThat(repo.resolve("wal_archive/" + missed + ".gz")).exists();

            // The catch-up sync copies what the inline syncs missed.
            ssh.start();
            SyncResult caughtUp = pg.remoteSyncer().sync(false);
            assertThat(caughtUp.files()).contains("wal_archive/" + missed + ".gz",
                    "base/" + second.id() + "/" + Repository.MANIFEST_FILE);
            assertThat(new Repository(remote).backupIds()).containsExactly(first.id(), second.id());
        }
    }

    @Test
    void theArchiverCopiesEachArchivedSegmentToTheRemoteAndAStoppedRemoteOnlyDelaysTheCopy() throws Exception {
        Assumptions.assumeTrue(SshServer.available(), "sshd, ssh, ssh-keygen or rsync is not installed");
        Path remote = work.resolve("remote");
        try (SshServer ssh = SshServer.start(work.resolve("sshd"));
             io.pgbackup.core.testing.ArchivingCluster source = io.pgbackup.core.testing.ArchivingCluster.createAsync(work,
                     a -> a.withIdleExitSeconds(120), c -> c.remote(ssh.host(), ssh.user(), remote.toString(), ssh.port())
                             .sshCommand(ssh.sshCommand()), io.pgbackup.core.testing.ArchiverMain.launcher(), b -> b, Map.of())) {
            PgCluster cluster = source.cluster();
            Path repo = source.repository();
            cluster.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 10000) g");
            String segment = source.switchAndAwaitArchived();
            PgCluster.await(Duration.ofMinutes(1), "the archiver's copy of " + segment,
                    () -> Files.exists(remote.resolve("wal_archive/" + segment + ".gz")));
            assertThat(sha256(remote.resolve("wal_archive/" + segment + ".gz")))
                    .isEqualTo(sha256(repo.resolve("wal_archive/" + segment + ".gz")));

            // The remote down: archiving goes on, the copy waits (a warning, the lag in the state).
            ssh.stop();
            String missed = source.switchAndAwaitArchived();
            PgCluster.await(Duration.ofMinutes(1), "the remote-sync-failed warning",
                    () -> Files.readString(repo.resolve("logs/wal_archive.log")).contains("remote-sync-failed"));
            PgCluster.await(Duration.ofSeconds(20), "the offsite lag in the archiver's state", () -> source.pgBackup().archiver()
                    .state().map(s -> s.offsitePending() > 0 && !s.offsiteLastError().isEmpty()).orElse(false));
            assertThat(remote.resolve("wal_archive/" + missed + ".gz")).doesNotExist();

            // Back: the archiver's next round copies what it missed, no manual step.
            ssh.start();
            PgCluster.await(Duration.ofMinutes(1), "the late copy of " + missed,
                    () -> Files.exists(remote.resolve("wal_archive/" + missed + ".gz")));
        }
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
