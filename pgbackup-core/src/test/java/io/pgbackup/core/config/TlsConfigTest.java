package io.pgbackup.core.config;

import io.pgbackup.core.config.TlsConfig.SslMode;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PG_SSLMODE and its files: libpq's names, prefer by default, each bad value one line and a usage error. */
class TlsConfigTest {
    private static PgBackupConfig config(String... pairs) {
        Map<String, String> env = new HashMap<>(Map.of("PG_BACKUP_DIR", "/tmp/repo"));
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return PgBackupConfig.fromEnvironment(env);
    }

    @Test
    void preferByDefaultWithoutFiles() {
        assertThat(config().tls()).isEqualTo(TlsConfig.defaults());
        assertThat(config().tls().mode()).isEqualTo(SslMode.PREFER);
        assertThat(config().tls().verifiesChain()).isFalse();
    }

    @Test
    void everyLibpqModeIsAccepted(@TempDir Path dir) throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.crt"), "x");
        for (SslMode mode : SslMode.values()) {
            TlsConfig tls = config("PG_SSLMODE", mode.value().toUpperCase(), "PG_SSLROOTCERT", ca.toString()).tls();
            assertThat(tls.mode()).isEqualTo(mode);
            assertThat(tls.rootCert()).contains(ca);
        }
        // a root certificate makes require check the chain, as in libpq
        assertThat(config("PG_SSLMODE", "require", "PG_SSLROOTCERT", ca.toString()).tls().verifiesChain()).isTrue();
        assertThat(config("PG_SSLMODE", "require").tls().verifiesChain()).isFalse();
        assertThat(config("PG_SSLMODE", "verify-full", "PG_SSLROOTCERT", ca.toString()).tls().verifiesHost()).isTrue();
    }

    @Test
    void badValuesAreUsageErrorsInOneLine(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> config("PG_SSLMODE", "on"))
                .isInstanceOfSatisfying(PgBackupException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessage("PG_SSLMODE='on' is not an SSL mode: use disable, allow, prefer, require, verify-ca or verify-full");
        assertThatThrownBy(() -> config("PG_SSLMODE", "require", "PG_SSLROOTCERT", dir.resolve("none.crt").toString()))
                .hasMessage("PG_SSLROOTCERT=" + dir.resolve("none.crt") + " does not exist: set it to the PEM file's path");
        assertThatThrownBy(() -> config("PG_SSLROOTCERT", "certs/ca.crt")).hasMessageStartingWith(
                "PG_SSLROOTCERT='certs/ca.crt' is a relative path: use an absolute path");
        Path cert = Files.writeString(dir.resolve("client.crt"), "x");
        assertThatThrownBy(() -> config("PG_SSLCERT", cert.toString()))
                .hasMessage("PG_SSLCERT is set but PG_SSLKEY is not: set both for a client certificate, or neither");
        assertThatThrownBy(() -> config("PG_SSLMODE", "verify-ca")).hasMessageStartingWith(
                "PG_SSLMODE=verify-ca needs the CA certificate that signed the server's: set PG_SSLROOTCERT to its PEM file");
    }

    @Test
    void theBuilderKeepsTlsAndToStringShowsOnlyTheMode(@TempDir Path dir) throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.crt"), "x");
        PgBackupConfig c = config("PG_SSLMODE", "verify-full", "PG_SSLROOTCERT", ca.toString());
        assertThat(c.toBuilder().build().tls()).isEqualTo(c.tls());
        assertThat(c.toString()).contains("sslmode=verify-full");
        assertThat(new TlsConfig(SslMode.DISABLE, Optional.empty(), Optional.empty(), Optional.empty()).verifiesChain())
                .isFalse();
    }
}
