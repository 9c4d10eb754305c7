package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.util.Locale;

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
