package io.pgbackup.core.postgres;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.TlsConfig.SslMode;
import io.pgbackup.core.config.TlsConfig;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;

/** A backup of a server reachable only through hostssl lines, with verify-full, restores to the same rows. */
class TlsBackupTest {
    @Test
    void backupOverVerifyFullTlsFromAHostsslOnlyServerRestores(@TempDir Path work) throws Exception {
        TestCertificates certs = TestCertificates.generate(work.resolve("certs"));
        try (ArchivingCluster source = ArchivingCluster.withOrders(work, 20000)) {
            PgCluster cluster = source.cluster();
            certs.install(cluster, certs.serverCert(), certs.serverKey(), TestCertificates.hostsslOnly("scram-sha-256"));
            PgBackup pg = PgBackup.create(source.pgBackup().config().toBuilder()
                    .tls(TlsConfig.of(SslMode.VERIFY_FULL, certs.caCert(), null, null)).build());

            BackupInfo backup = pg.backups().backup(BackupOptions.defaults());

            cluster.execute("INSERT INTO orders SELECT g, 'late ' || g FROM generate_series(20001, 20500) g");
            String expected = fingerprint(cluster, "orders");
            source.switchAndAwaitArchived();
            Path target = work.resolve("restored");
            pg.restorePlanner().execute(pg.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()),
                    new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.of(target), false)));
            try (PgCluster restored = PgCluster.startExisting(target, work.resolve("run-restored"), cluster.password())) {
                restored.awaitPromoted(Duration.ofMinutes(2));
                assertThat(fingerprint(restored, "orders")).isEqualTo(expected);
                // the copy keeps the source's TLS-only access
                assertThat(restored.queryString("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                        .isEqualTo("true");
            }
        }
    }
}
