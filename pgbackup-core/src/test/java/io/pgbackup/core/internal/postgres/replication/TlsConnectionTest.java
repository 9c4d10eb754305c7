package io.pgbackup.core.internal.postgres.replication;

import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.config.TlsConfig.SslMode;
import io.pgbackup.core.config.TlsConfig;
import io.pgbackup.core.internal.postgres.PgConnector;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.testing.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS towards a real cluster with {@code ssl = on} and a {@code hostssl}-only pg_hba.conf, with
 * certificates made by openssl for the test: the replication client and JDBC encrypt, check the
 * chain and the host name as PG_SSLMODE says, bind SCRAM to the channel, present client
 * certificates, and never send a cleartext password without TLS.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsConnectionTest {
    Path work;
    TestCertificates certs;
    PgCluster cluster;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        work = dir;
        certs = TestCertificates.generate(dir.resolve("certs"));
        cluster = PgCluster.create(dir.resolve("pg"));
        certs.install(cluster, certs.serverCert(), certs.serverKey(), TestCertificates.hostsslOnly("scram-sha-256"));
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private ReplicationSettings replication(String host, PgCluster c, TlsConfig tls) {
        return new ReplicationSettings(host, c.port(), PgCluster.SUPERUSER, Optional.ofNullable(c.password()), tls);
    }

    private PgBackupConfig config(String host, PgCluster c, TlsConfig tls) {
        return c.config(work.resolve("repo")).toBuilder().host(host).tls(tls).build();
    }

    private boolean sslOf(int pid) throws Exception {
        return Boolean.parseBoolean(cluster.queryString("SELECT ssl::text FROM pg_stat_ssl WHERE pid = " + pid));
    }

    @Test
    void requireEncryptsTheReplicationConnectionAndBindsScramToTheChannel() throws Exception {
        try (PgWireConnection c = PgWireConnection.open(replication("127.0.0.1", cluster,
                TlsConfig.of(SslMode.REQUIRE, null, null, null)))) {
            assertThat(c.encrypted()).isTrue();
            assertThat(c.saslMechanism()).isEqualTo("SCRAM-SHA-256-PLUS");
            assertThat(sslOf(c.backendPid())).isTrue();
            assertThat(c.query("IDENTIFY_SYSTEM").get(0).rows()).hasSize(1);
        }
    }

    @Test
    void requireEncryptsJdbc() throws Exception {
        try (Connection c = new PgConnector(config("127.0.0.1", cluster, TlsConfig.of(SslMode.REQUIRE, null, null, null))).open();
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).isTrue();
        }
    }

    @Test
    void verifyFullWithTheRightCaWorksByAddressAndByName() throws Exception {
        TlsConfig tls = TlsConfig.of(SslMode.VERIFY_FULL, certs.caCert(), null, null);
        for (String host : new String[] {"127.0.0.1", "localhost"}) {
            try (PgWireConnection c = PgWireConnection.open(replication(host, cluster, tls))) {
                assertThat(c.encrypted()).isTrue();
            }
            try (Connection c = new PgConnector(config(host, cluster, tls)).open()) {
                assertThat(c.isValid(5)).isTrue();
            }
        }
    }

    @Test
    void theDefaultPreferUsesTlsWhenTheServerOffersIt() throws Exception {
        try (PgWireConnection c = PgWireConnection.open(new ReplicationSettings("127.0.0.1", cluster.port(),
                PgCluster.SUPERUSER, Optional.of(cluster.password())))) {
            assertThat(c.encrypted()).isTrue();
            assertThat(sslOf(c.backendPid())).isTrue();
        }
        try (Connection c = new PgConnector(cluster.config(work.resolve("repo"))).open()) {
            assertThat(c.isValid(5)).isTrue();
        }
    }

    @Test
    void allowFallsBackToTlsWhenTheServerRefusesPlain() throws Exception {
        try (PgWireConnection c = PgWireConnection.open(replication("127.0.0.1", cluster,
                TlsConfig.of(SslMode.ALLOW, null, null, null)))) {
            assertThat(c.encrypted()).isTrue();
        }
    }

    /** libpq's prefer: a server whose pg_hba.conf has only hostnossl lines refuses the TLS attempt; then plain. */
    @Test
    void preferTriesPlainWhenTheServerRefusesTheEncryptedConnection(@TempDir Path dir) throws Exception {
        try (PgCluster plainOnly = PgCluster.create(dir.resolve("pg"))) {
            certs.install(plainOnly, certs.serverCert(), certs.serverKey(), "hostnossl all all 127.0.0.1/32 scram-sha-256\n"
                    + "hostnossl replication all 127.0.0.1/32 scram-sha-256");
            try (PgWireConnection c = PgWireConnection.open(replication("127.0.0.1", plainOnly, TlsConfig.of(SslMode.PREFER, null, null, null)))) {
                assertThat(c.encrypted()).isFalse();
                assertThat(c.saslMechanism()).isEqualTo("SCRAM-SHA-256");
            }
            try (Connection c = new PgConnector(plainOnly.config(work.resolve("repo"))).open()) {
                assertThat(c.isValid(5)).isTrue();
            }
            // require still means require
            assertThatThrownBy(() -> PgWireConnection.open(replication("127.0.0.1", plainOnly,
                    TlsConfig.of(SslMode.REQUIRE, null, null, null))).close()).hasMessageContaining("pg_hba.conf");
        }
    }

    @Test
    void aWrongCaFailsInOneLine() {
        for (SslMode mode : new SslMode[] {SslMode.VERIFY_CA, SslMode.VERIFY_FULL, SslMode.REQUIRE}) {
            // require with a root certificate checks the chain, as in libpq
            TlsConfig tls = TlsConfig.of(mode, certs.rogueCaCert(), null, null);
            assertThatThrownBy(() -> PgWireConnection.open(replication("127.0.0.1", cluster, tls)).close())
                    .isInstanceOf(IOException.class)
                    .hasMessage("the TLS certificate of server at 127.0.0.1:" + cluster.port()
                            + " is not signed by the CA in PG_SSLROOTCERT=" + certs.rogueCaCert()
                            + ": set PG_SSLROOTCERT to the CA certificate that signed the server's");
            assertThatThrownBy(() -> new PgConnector(config("127.0.0.1", cluster, tls)).open().close())
                    .isInstanceOf(PgBackupException.class)
                    .hasMessageContaining("not signed by the CA in PG_SSLROOTCERT=" + certs.rogueCaCert())
                    .hasMessageNotContaining("\n");
        }
    }

    @Test
    void disableFailsOnAHostsslOnlyServerNamingTheFix() {
        TlsConfig tls = TlsConfig.of(SslMode.DISABLE, null, null, null);
        assertThatThrownBy(() -> PgWireConnection.open(replication("127.0.0.1", cluster, tls)).close())
                .hasMessageContaining("no encryption")
                .hasMessageEndingWith("(the server accepts only TLS connections: set PG_SSLMODE=require or verify-full)");
        assertThatThrownBy(() -> new PgConnector(config("127.0.0.1", cluster, tls)).open().close())
                .isInstanceOf(PgBackupException.class).hasMessageContaining("no encryption");
    }

    @Test
    void verifyFullRefusesACertificateForAnotherHost(@TempDir Path dir) throws Exception {
        try (PgCluster other = PgCluster.create(dir.resolve("pg"))) {
            certs.install(other, certs.otherNameCert(), certs.otherNameKey(), TestCertificates.hostsslOnly("scram-sha-256"));
            TlsConfig full = TlsConfig.of(SslMode.VERIFY_FULL, certs.caCert(), null, null);
            assertThatThrownBy(() -> PgWireConnection.open(replication("127.0.0.1", other, full)).close())
                    .hasMessage("the TLS certificate of server at 127.0.0.1:" + other.port() + " does not name that host"
                            + " (PG_SSLMODE=verify-full): connect with a host name or address the certificate lists in"
                            + " subjectAltName, or set PG_SSLMODE=verify-ca");
            assertThatThrownBy(() -> new PgConnector(config("localhost", other, full)).open().close())
                    .isInstanceOf(PgBackupException.class).hasMessageContaining("does not name that host")
                    .hasMessageNotContaining("\n");
            // the chain is right: verify-ca accepts it
            TlsConfig ca = TlsConfig.of(SslMode.VERIFY_CA, certs.caCert(), null, null);
            try (PgWireConnection c = PgWireConnection.open(replication("localhost", other, ca))) {
                assertThat(c.encrypted()).isTrue();
            }
        }
    }

    @Test
    void aClientCertificateAuthenticatesWithCertMethod(@TempDir Path dir) throws Exception {
        try (PgCluster other = PgCluster.create(dir.resolve("pg"))) {
            certs.install(other, certs.serverCert(), certs.serverKey(), TestCertificates.hostsslOnly("cert"));
            TlsConfig tls = TlsConfig.of(SslMode.VERIFY_FULL, certs.caCert(), certs.clientCert(), certs.clientKey());
            ReplicationSettings noPassword = new ReplicationSettings("127.0.0.1", other.port(), PgCluster.SUPERUSER,
                    Optional.empty(), tls);
            try (PgWireConnection c = PgWireConnection.open(noPassword)) {
                assertThat(c.encrypted()).isTrue();
                assertThat(c.saslMechanism()).isNull();
            }
            PgBackupConfig config = other.config(dir.resolve("repo")).toBuilder().password(null).tls(tls).build();
            try (Connection c = new PgConnector(config).open(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("/CN=" + PgCluster.SUPERUSER);
            }
            // without the client certificate the server refuses
            TlsConfig without = TlsConfig.of(SslMode.VERIFY_FULL, certs.caCert(), null, null);
            assertThatThrownBy(() -> PgWireConnection.open(new ReplicationSettings("127.0.0.1", other.port(),
                    PgCluster.SUPERUSER, Optional.empty(), without)).close())
                    .hasMessageContaining("certificate");
        }
    }

    @Test
    void aCleartextPasswordRequestWithoutTlsIsRefusedAndThePasswordNeverSent(@TempDir Path dir) throws Exception {
        try (PgCluster plain = PgCluster.create(dir.resolve("pg"), Map.of("log_connections", "on"))) {
            java.nio.file.Files.writeString(plain.dataDir().resolve("pg_hba.conf"), "local all all trust\n"
                    + "host all all 127.0.0.1/32 password\nhost replication all 127.0.0.1/32 password\n");
            plain.restart();
            String refusal = "asks for the password in clear text (pg_hba.conf method \"password\") on a connection"
                    + " without TLS, and pgbackup does not send it: use scram-sha-256 in pg_hba.conf, or turn on ssl in"
                    + " the server and set PG_SSLMODE=require";
            // default prefer: the server has no TLS, so the connection is plain and the request is refused
            assertThatThrownBy(() -> PgWireConnection.open(new ReplicationSettings("127.0.0.1", plain.port(),
                    PgCluster.SUPERUSER, Optional.of(plain.password()))).close())
                    .isInstanceOf(IOException.class)
                    .hasMessage("server at 127.0.0.1:" + plain.port() + " " + refusal);
            assertThatThrownBy(() -> new PgConnector(plain.config(dir.resolve("repo"))).open().close())
                    .isInstanceOf(PgBackupException.class)
                    .hasMessageContaining(refusal)
                    .hasMessageNotContaining(plain.password());
            // the server never got a password: no failed password check, no session
            String log = plain.log();
            assertThat(log).doesNotContain("password authentication failed").doesNotContain("connection authorized");
        }
    }

    @Test
    void md5OverPlainTcpStillWorksForUsersWhoSetNothingNew(@TempDir Path dir) throws Exception {
        try (PgCluster plain = PgCluster.create(dir.resolve("pg"))) {
            plain.execute("SET password_encryption = 'md5'",
                    "ALTER ROLE " + PgCluster.SUPERUSER + " PASSWORD '" + plain.password() + "'");
            java.nio.file.Files.writeString(plain.dataDir().resolve("pg_hba.conf"), "local all all trust\n"
                    + "host all all 127.0.0.1/32 md5\nhost replication all 127.0.0.1/32 md5\n");
            plain.restart();
            try (PgWireConnection c = PgWireConnection.open(new ReplicationSettings("127.0.0.1", plain.port(),
                    PgCluster.SUPERUSER, Optional.of(plain.password())))) {
                assertThat(c.encrypted()).isFalse();
                assertThat(c.saslMechanism()).isNull();
            }
            try (Connection c = new PgConnector(plain.config(dir.resolve("repo"))).open()) {
                assertThat(c.isValid(5)).isTrue();
            }
        }
    }
}
