package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS towards PostgreSQL ({@code PG_SSLMODE}, {@code PG_SSLROOTCERT}, {@code PG_SSLCERT},
 * {@code PG_SSLKEY}), with libpq's meanings, for JDBC and the replication client alike.
 *
 * <p>{@code rootCert} is the file as configured, or for {@code verify-ca}/{@code verify-full}
 * libpq's default {@code ~/.postgresql/root.crt}. Under {@code allow}, {@code prefer} and
 * {@code require} a configured root certificate makes the chain checked, as in libpq; without one
 * the server's certificate is not checked (encryption only), as before.
 */
public record TlsConfig(SslMode mode, Optional<Path> rootCert, Optional<Path> clientCert, Optional<Path> clientKey) {
    public static final String PG_SSLMODE = "PG_SSLMODE";
    public static final String PG_SSLROOTCERT = "PG_SSLROOTCERT";
    public static final String PG_SSLCERT = "PG_SSLCERT";
    public static final String PG_SSLKEY = "PG_SSLKEY";

    public TlsConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(rootCert, "rootCert");
        Objects.requireNonNull(clientCert, "clientCert");
        Objects.requireNonNull(clientKey, "clientKey");
    }

    /** What users who set nothing get: {@code prefer}, no files. */
    public static TlsConfig defaults() {
        return new TlsConfig(SslMode.PREFER, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** A mode with the given files (null for none), checked as the environment's are. */
    public static TlsConfig of(SslMode mode, Path rootCert, Path clientCert, Path clientKey) {
        return check(mode, rootCert, clientCert, clientKey, Path.of(System.getProperty("user.home", "/")));
    }

    static TlsConfig fromSettings(EnvSettings env) {
        String raw = env.get(PG_SSLMODE);
        SslMode mode = raw == null || raw.isBlank() ? SslMode.PREFER : SslMode.parse(PG_SSLMODE, raw);
        return check(mode, path(env, PG_SSLROOTCERT), path(env, PG_SSLCERT), path(env, PG_SSLKEY),
                Path.of(System.getProperty("user.home", "/")));
    }

    private static TlsConfig check(SslMode mode, Path rootCert, Path clientCert, Path clientKey, Path home) {
        if (rootCert == null && mode.verifiesChain()) {
            Path fallback = home.resolve(".postgresql/root.crt");
            if (!Files.isRegularFile(fallback)) {
                throw invalid(PG_SSLMODE + "=" + mode.value() + " needs the CA certificate that signed the server's:"
                        + " set " + PG_SSLROOTCERT + " to its PEM file (or put it in " + fallback + ")");
            }
            rootCert = fallback;
        }
        if ((clientCert == null) != (clientKey == null)) {
            throw invalid(clientCert == null
                    ? PG_SSLKEY + " is set but " + PG_SSLCERT + " is not: set both for a client certificate, or neither"
                    : PG_SSLCERT + " is set but " + PG_SSLKEY + " is not: set both for a client certificate, or neither");
        }
        checkReadable(PG_SSLROOTCERT, rootCert);
        checkReadable(PG_SSLCERT, clientCert);
        checkReadable(PG_SSLKEY, clientKey);
        return new TlsConfig(mode, Optional.ofNullable(rootCert), Optional.ofNullable(clientCert),
                Optional.ofNullable(clientKey));
    }

    /** Whether the server's certificate chain is checked (verify-*, or any TLS mode given a root certificate). */
    public boolean verifiesChain() {
        return mode.verifiesChain() || (mode != SslMode.DISABLE && rootCert.isPresent());
    }

    /** Whether the host name or address must match the certificate. */
    public boolean verifiesHost() {
        return mode == SslMode.VERIFY_FULL;
    }

    private static Path path(EnvSettings env, String variable) {
        String raw = env.get(variable);
        if (raw == null || raw.isBlank()) {
            return null;
        }
        Path p = Path.of(raw.strip());
        if (!p.isAbsolute()) {
            throw env.invalid(variable, variable + "='" + raw + "' is a relative path: use an absolute path, e.g. "
                    + p.toAbsolutePath().normalize());
        }
        return p;
    }

    private static void checkReadable(String variable, Path file) {
        if (file != null && !(Files.isRegularFile(file) && Files.isReadable(file))) {
            throw invalid(variable + "=" + file + (Files.exists(file) ? " is not a readable file" : " does not exist")
                    + ": set it to the PEM file's path");
        }
    }

    private static PgBackupException invalid(String message) {
        return new PgBackupException(ErrorCode.INVALID_CONFIG, message);
    }

    /** {@code PG_SSLMODE}, with libpq's names and meanings. */
    public enum SslMode {
        /** Never TLS. */
        DISABLE,
        /** Plain first; TLS only when the server refuses the plain connection. */
        ALLOW,
        /** TLS when the server offers it, plain otherwise (libpq's and pgbackup's default). */
        PREFER,
        /** TLS or nothing; the certificate is checked only when a root certificate is given. */
        REQUIRE,
        /** TLS, with the server certificate's chain checked against the root certificate. */
        VERIFY_CA,
        /** As {@link #VERIFY_CA}, and the host name or address must match the certificate. */
        VERIFY_FULL;

        /** The libpq spelling ({@code verify-full}). */
        public String value() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** Whether a connection without TLS is refused. */
        public boolean requiresTls() {
            return this == REQUIRE || this == VERIFY_CA || this == VERIFY_FULL;
        }

        /** Whether the certificate chain must be checked whatever files exist. */
        public boolean verifiesChain() {
            return this == VERIFY_CA || this == VERIFY_FULL;
        }

        static SslMode parse(String variable, String raw) {
            String v = raw.strip().toLowerCase(Locale.ROOT);
            for (SslMode m : values()) {
                if (m.value().equals(v)) {
                    return m;
                }
            }
            throw new PgBackupException(ErrorCode.INVALID_CONFIG, variable + "='" + raw.replaceAll("\\p{Cntrl}", "?")
                    + "' is not an SSL mode: use disable, allow, prefer, require, verify-ca or verify-full");
        }
    }
}
