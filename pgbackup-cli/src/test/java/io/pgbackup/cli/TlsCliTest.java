package io.pgbackup.cli;

import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.testing.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The jar against a server with ssl on and hostssl lines only: PG_SSLMODE and its files end to end. */
class TlsCliTest {
    @TempDir
    static Path clusterDir;
    static PgCluster cluster;
    static TestCertificates certs;

    @TempDir
    Path work;

    @BeforeAll
    static void start() throws Exception {
        certs = TestCertificates.generate(clusterDir.resolve("certs"));
        cluster = PgCluster.create(clusterDir.resolve("pg"));
        certs.install(cluster, certs.serverCert(), certs.serverKey(), TestCertificates.hostsslOnly("scram-sha-256"));
        cluster.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g");
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private Map<String, String> env(String mode, Path rootCert) throws Exception {
        new Repository(work.resolve("repo")).createLayout();
        Map<String, String> env = new HashMap<>(cluster.environment(work.resolve("repo")));
        env.put("PG_SSLMODE", mode);
        env.put("PG_SSLROOTCERT", rootCert.toString());
        return env;
    }

    @Test
    void backupWithVerifyFullWorksAndAWrongCaFailsInOneLine() throws Exception {
        CliProcess.Result ok = CliProcess.run(env("verify-full", certs.caCert()), "backup");
        assertThat(ok.exitCode()).as(ok.all()).isZero();
        assertThat(ok.stdout()).matches("(?s)backup \\d{8}_\\d{6} complete: .* stored .*");

        CliProcess.Result wrong = CliProcess.run(env("verify-full", certs.rogueCaCert()), "backup");
        assertThat(wrong.exitCode()).as(wrong.all()).isEqualTo(1);
        assertThat(wrong.stderr().strip()).startsWith("pgbackup: ").contains("is not signed by the CA in PG_SSLROOTCERT="
                + certs.rogueCaCert()).doesNotContain("\n").doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void disableAgainstAHostsslOnlyServerNamesTheSettingToChange() throws Exception {
        CliProcess.Result r = CliProcess.run(env("disable", certs.caCert()), "backup");
        assertThat(r.exitCode()).as(r.all()).isEqualTo(1);
        assertThat(r.stderr().strip()).startsWith("pgbackup: ").contains("no encryption")
                .contains("set PG_SSLMODE=require or verify-full").doesNotContain("allow replication connections")
                .doesNotContain("\n").doesNotContain("Exception");
    }

    @Test
    void aBadSslModeOrAMissingCertificateFileIsAUsageError() throws Exception {
        CliProcess.Result mode = CliProcess.run(env("verify-everything", certs.caCert()), "backup");
        assertThat(mode.exitCode()).isEqualTo(2);
        assertThat(mode.stderr().strip()).isEqualTo("pgbackup: PG_SSLMODE='verify-everything' is not an SSL mode: use"
                + " disable, allow, prefer, require, verify-ca or verify-full");

        Path missing = work.resolve("nowhere/root.crt");
        CliProcess.Result file = CliProcess.run(env("verify-full", missing), "backup");
        assertThat(file.exitCode()).isEqualTo(2);
        assertThat(file.stderr().strip()).isEqualTo("pgbackup: PG_SSLROOTCERT=" + missing
                + " does not exist: set it to the PEM file's path");
    }
}
