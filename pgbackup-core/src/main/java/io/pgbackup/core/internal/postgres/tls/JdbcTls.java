package io.pgbackup.core.internal.postgres.tls;

import io.pgbackup.core.config.TlsConfig.SslMode;
import io.pgbackup.core.config.TlsConfig;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * TLS for pgjdbc connections over TCP. pgjdbc gets {@link PgSslSocketFactory} (PEM files as libpq
 * reads them, one verification implementation with the replication client), and two hooks that
 * together refuse a cleartext password over a connection without TLS, which pgjdbc would send:
 * {@link TrackingSocketFactory} marks each new TCP socket plain, the SSL factory marks it TLS,
 * and {@link PasswordPlugin} reads the mark when the server asks for a password.
 *
 * <p>The properties carry only strings, so the mark lives here under a per-open id.
 */
public final class JdbcTls {
    static final String ID = "pgbackupConnectionId";
    private static final Map<String, AtomicBoolean> TLS_BY_ID = new ConcurrentHashMap<>();

    private JdbcTls() {
    }

    /** A registration of one connection attempt; close it once the driver returned. */
    public static final class Attempt implements AutoCloseable {
        private final String id = UUID.randomUUID().toString();

        private Attempt() {
            TLS_BY_ID.put(id, new AtomicBoolean(false));
        }

        @Override
        public void close() {
            TLS_BY_ID.remove(id);
        }
    }

    /** Sets pgjdbc's TLS, socket and password properties for {@code tls}; returns what to close after connecting. */
    public static Attempt configure(Properties properties, TlsConfig tls) {
        Attempt attempt = new Attempt();
        properties.setProperty(ID, attempt.id);
        properties.setProperty("socketFactory", TrackingSocketFactory.class.getName());
        properties.setProperty("authenticationPluginClassName", PasswordPlugin.class.getName());
        // pgjdbc's own modes pick plain/TLS and fall back; every certificate check is ours (PgSslSocketFactory)
        properties.setProperty("sslmode", switch (tls.mode()) {
            case VERIFY_CA, VERIFY_FULL -> "require";
            default -> tls.mode().value();
        });
        properties.setProperty("sslfactory", PgSslSocketFactory.class.getName());
        properties.setProperty("pgbackupSslMode", tls.mode().value());
        tls.rootCert().ifPresent(p -> properties.setProperty("pgbackupSslRootCert", p.toString()));
        tls.clientCert().ifPresent(p -> properties.setProperty("pgbackupSslCert", p.toString()));
        tls.clientKey().ifPresent(p -> properties.setProperty("pgbackupSslKey", p.toString()));
        return attempt;
    }

    static TlsConfig tlsConfig(Properties p) {
        SslMode mode = SslMode.PREFER;
        for (SslMode m : SslMode.values()) {
            if (m.value().equals(p.getProperty("pgbackupSslMode"))) {
                mode = m;
            }
        }
        return new TlsConfig(mode, path(p, "pgbackupSslRootCert"), path(p, "pgbackupSslCert"), path(p, "pgbackupSslKey"));
    }

    private static Optional<Path> path(Properties p, String name) {
        return Optional.ofNullable(p.getProperty(name)).map(Path::of);
    }

    static void mark(Properties p, boolean tls) {
        AtomicBoolean state = TLS_BY_ID.get(String.valueOf(p.getProperty(ID)));
        if (state != null) {
            state.set(tls);
        }
    }

    static boolean isTls(Properties p) {
        AtomicBoolean state = TLS_BY_ID.get(String.valueOf(p.getProperty(ID)));
        return state != null && state.get();
    }

    /** The one-line refusal when a server asks for a cleartext password on a connection without TLS. */
    public static String cleartextRefusal(String server) {
        return "server at " + server + " asks for the password in clear text (pg_hba.conf method \"password\") on a"
                + " connection without TLS, and pgbackup does not send it: use scram-sha-256 in pg_hba.conf, or turn"
                + " on ssl in the server and set " + TlsConfig.PG_SSLMODE + "=require";
    }
}
