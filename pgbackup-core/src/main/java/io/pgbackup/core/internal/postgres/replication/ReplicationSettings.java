package io.pgbackup.core.internal.postgres.replication;

import io.pgbackup.core.config.TlsConfig;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Where and as whom to open replication connections. A {@code host} that starts with {@code /}
 * is a Unix-socket directory ({@code <host>/.s.PGSQL.<port>}), as in libpq.
 * {@link #toString()} never shows the password.
 */
public record ReplicationSettings(String host, int port, String user, Optional<String> password,
                                  Duration connectTimeout, TlsConfig tls) {
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    public ReplicationSettings {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(tls, "tls");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host is empty");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not between 1 and 65535");
        }
        if (user.isEmpty()) {
            throw new IllegalArgumentException("user is empty");
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connect timeout must be positive");
        }
    }

    public ReplicationSettings(String host, int port, String user, Optional<String> password) {
        this(host, port, user, password, DEFAULT_CONNECT_TIMEOUT, TlsConfig.defaults());
    }

    public ReplicationSettings(String host, int port, String user, Optional<String> password, Duration connectTimeout) {
        this(host, port, user, password, connectTimeout, TlsConfig.defaults());
    }

    public ReplicationSettings(String host, int port, String user, Optional<String> password, TlsConfig tls) {
        this(host, port, user, password, DEFAULT_CONNECT_TIMEOUT, tls);
    }

    boolean unixSocket() {
        return host.startsWith("/");
    }

    /** host:port, or the socket file, for messages. */
    String address() {
        return unixSocket() ? host + "/.s.PGSQL." + port : host + ":" + port;
    }

    @Override
    public String toString() {
        return "ReplicationSettings[host=" + host + ", port=" + port + ", user=" + user + ", password="
                + (password.isPresent() ? "(set)" : "(none)") + ", connectTimeout=" + connectTimeout + ", sslmode=" + tls.mode().value() + "]";
    }
}
