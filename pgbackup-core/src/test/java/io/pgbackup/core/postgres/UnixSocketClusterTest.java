package io.pgbackup.core.postgres;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.archive.ArchiveSetup.InitResult;
import io.pgbackup.core.archive.ArchiveSetup.InitResult.SettingCheck;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestorePlan;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.status.StatusReport;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.verify.VerifyReport.BackupVerdict;
import io.pgbackup.core.verify.VerifyReport;
import io.pgbackup.core.verify.VerifyRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A cluster set up as Debian sets up {@code postgres}: TCP off, {@code local ... peer} only, no
 * password. With PG_HOST = its socket directory every command works: init's settings check,
 * backup, list, status, verify with a restore test, restore (planned and carried out).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UnixSocketClusterTest {
    Path work;
    PgCluster cluster;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        work = dir;
        cluster = PgCluster.createSocketOnly(work.resolve("pg"), Map.of());
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void everyCommandWorksOverTheSocketWithPeerAuthenticationAndNoPassword() throws Exception {
        assertThat(cluster.queryString("SHOW listen_addresses")).isEmpty();
        Path repo = work.resolve("repo");
        PgBackupConfig config = cluster.config(repo);
        assertThat(config.hasPassword()).isFalse();
        assertThat(config.socketDirectory()).contains(cluster.socketDir());
        String where = "socket " + cluster.socketDir() + " port " + cluster.port();
        PgBackup pg = PgBackup.create(config);

        // init: reads the live settings over the socket and finds archiving off.
        InitResult first = pg.archiveSetup().init();
        assertThat(first.cluster().reachable()).as(first.cluster().message()).isTrue();
        assertThat(first.cluster().message()).endsWith(" at " + where);
        assertThat(first.settings()).filteredOn(s -> s.name().equals("archive_mode"))
                .singleElement().extracting(SettingCheck::ok).isEqualTo(false);
        // The lines init prints, appended to postgresql.conf as a DBA would.
        Files.writeString(cluster.dataDir().resolve("postgresql.conf"), "\n" + String.join("\n", first.configLines()) + "\n",
                java.nio.file.StandardOpenOption.APPEND);
        cluster.restart();
        InitResult again = pg.archiveSetup().init();
        assertThat(again.clusterReady()).as(again.settings().toString()).isTrue();

        // backup and list
        cluster.execute("CREATE TABLE orders (id int PRIMARY KEY, item text)",
                "INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 1000) g");
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        assertThat(pg.backups().list()).extracting(BackupInfo::id).containsExactly(backup.id());
        cluster.execute("INSERT INTO orders SELECT g, 'late ' || g FROM generate_series(1001, 1200) g");
        String expected = fingerprint(cluster, "orders");
        cluster.switchAndAwaitArchived();

        // status: the cluster and its archiving, read over the socket
        StatusReport status = pg.status().report();
        StatusReport.ClusterStatus server = status.cluster();
        assertThat(server.reachable()).as(String.valueOf(server.error())).isTrue();
        assertThat(server.settings()).containsEntry("archive_mode", "on");
        assertThat(server.usesInstalledScript()).isTrue();
        assertThat(server.archiver().archivedCount()).isPositive();
        assertThat(server.archiver().failedCount()).isZero();
        assertThat(status.config().host()).isEqualTo(cluster.socketDir().toString());
        assertThat(status.config().password()).isNull();
        assertThat(status.backups().count()).isEqualTo(1);
        assertThat(status.verdict()).as(status.reasons().toString()).isNotEqualTo(StatusReport.Verdict.FAIL);

        // verify, with a restore test
        VerifyReport verified = pg.verifier().verify(VerifyRequest.of(backup.id()).withRestoreTest(true));
        assertThat(verified.ok()).as(verified.backups().toString()).isTrue();
        assertThat(verified.backups()).singleElement().satisfies(v -> assertThat(v.restoreTest()).isPresent()
                .get().satisfies(check -> assertThat(check.ok()).isTrue()));

        // restore: pg_isready over the socket sees the server running when PGDATA is the target
        Path elsewhere = work.resolve("pgdata-elsewhere");
        PgBackup withOtherPgData = PgBackup.create(config.toBuilder().pgData(elsewhere).build());
        assertThatThrownBy(() -> withOtherPgData.restorePlanner().plan(request(backup, elsewhere)))
                .isInstanceOfSatisfying(PgBackupException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.REFUSED);
                    assertThat(e.getMessage()).startsWith("the server at " + where + " is running and " + elsewhere);
                });

        // restore: the plan (what --dry-run prints) touches nothing; then carried out and started
        Path target = work.resolve("restored");
        RestorePlan plan = pg.restorePlanner().plan(request(backup, target));
        assertThat(plan.wal()).isNotEmpty().allMatch(RestorePlan.WalNeed::present);
        assertThat(Files.exists(target)).isFalse();
        pg.restorePlanner().execute(plan);
        try (PgCluster restored = PgCluster.startExistingSocketOnly(target, work.resolve("run-restored"),
                Map.of("archive_mode", "off"))) {
            restored.awaitPromoted(Duration.ofMinutes(2));
            assertThat(restored.queryString("SHOW listen_addresses")).isEmpty();
            assertThat(fingerprint(restored, "orders")).isEqualTo(expected);
        }
    }

    @Test
    void aRoleThatPeerAuthenticationDoesNotAdmitFailsInOneLineWithTheFix() {
        PgBackupConfig config = cluster.config(work.resolve("repo-other")).toBuilder().user("someone_else").build();
        PgBackup pg = PgBackup.create(config);
        InitResult init = pg.archiveSetup().init();
        assertThat(init.cluster().reachable()).isFalse();
        assertThat(init.cluster().message()).contains("Peer authentication failed");

        assertThatThrownBy(() -> pg.backups().backup(BackupOptions.defaults()))
                .isInstanceOfSatisfying(PgBackupException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CONNECTION_FAILED);
                    assertThat(e.getMessage()).doesNotContain("\n")
                            .contains("socket " + cluster.socketDir() + " port " + cluster.port())
                            .contains("Peer authentication failed")
                            .contains("set PG_USER_NAME to it or map it in pg_ident.conf");
                });
    }

    private static RestoreRequest request(BackupInfo backup, Path target) {
        return new RestoreRequest(Optional.of(backup.id()), new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE,
                Optional.of(target), false);
    }
}
