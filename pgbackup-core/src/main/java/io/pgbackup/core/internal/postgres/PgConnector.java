package io.pgbackup.core.internal.postgres;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.postgres.tls.JdbcTls;
import io.pgbackup.core.internal.postgres.tls.TlsContexts;
import org.newsclub.net.unix.AFUNIXSocketFactory;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;

/**
 * Opens JDBC connections to the configured cluster. The password goes into the driver's
 * properties only; failures become one line naming the server, user and database (never the
 * password) and what to check.
 *
 * <p>When PG_HOST is a socket directory ({@code /var/run/postgresql}), the connection goes over
 * the Unix-domain socket {@code <dir>/.s.PGSQL.<port>} through junixsocket's socket factory, as
 * libpq would connect: no TLS, no GSS encryption, and peer authentication works without a password.
 */
public final class PgConnector {
    /** pgjdbc instantiates this with the socket path as its one String argument. */
    static final String SOCKET_FACTORY = AFUNIXSocketFactory.FactoryArg.class.getName();

    private final PgBackupConfig config;

    public PgConnector(PgBackupConfig config) {
        this.config = config;
    }

    public Connection open() {
        String database = config.requireDatabase();
        String user = config.requireUser();
        Properties properties = new Properties();
        properties.setProperty("user", user);
        config.passwordForDriver().ifPresent(p -> properties.setProperty("password", p));
        properties.setProperty("ApplicationName", "pgbackup");
        properties.setProperty("connectTimeout", "10");
        properties.setProperty("socketTimeout", "0");
        Optional<Path> socket = config.socketPath();
        String url;
        if (socket.isPresent()) {
            // The host in the URL is never resolved: the factory connects to the socket file.
            url = "jdbc:postgresql://localhost:" + config.port() + "/" + database;
            properties.setProperty("socketFactory", SOCKET_FACTORY);
            properties.setProperty("socketFactoryArg", socket.get().toString());
            properties.setProperty("sslmode", "disable");
            properties.setProperty("gssEncMode", "disable");
        } else {
            url = "jdbc:postgresql://" + hostForUrl(config.host()) + ":" + config.port() + "/" + database;
        }
        // TCP: TLS as PG_SSLMODE says; a Unix-domain socket stays without TLS, as in libpq
        try (JdbcTls.Attempt attempt = socket.isPresent() ? null : JdbcTls.configure(properties, config.tls())) {
            return DriverManager.getConnection(url, properties);
        } catch (SQLException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof javax.net.ssl.SSLException) {
                    throw new PgBackupException(ErrorCode.CONNECTION_FAILED, "cannot connect to PostgreSQL at "
                            + config.serverDescription() + " as " + user + " (database " + database + "): "
                            + TlsContexts.explain(t, config.tls(), config.serverDescription()), e);
                }
            }
            throw new PgBackupException(ErrorCode.CONNECTION_FAILED, "cannot connect to PostgreSQL at "
                    + config.serverDescription() + " as " + user + " (database " + database + "): "
                    + firstLine(e.getMessage()) + ". " + hint(e, socket), e);
        } catch (LinkageError e) {
            // junixsocket's JNI library could not be loaded on this platform.
            throw new PgBackupException(ErrorCode.CONNECTION_FAILED, "cannot connect to PostgreSQL at "
                    + config.serverDescription() + ": Unix-domain sockets are not available in this JVM ("
                    + firstLine(e.getMessage()) + "). Set PG_HOST to a TCP address such as 127.0.0.1 instead", e);
        }
    }

    private String hint(SQLException e, Optional<Path> socket) {
        String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (socket.isPresent() && message.contains("peer authentication failed")) {
            return "Peer authentication admits only the OS user of the same name (this is "
                    + System.getProperty("user.name") + "): set PG_USER_NAME to it or map it in pg_ident.conf";
        }
        if (socket.isPresent()) {
            return "Check that the server runs with " + socket.get().getParent() + " in unix_socket_directories and port "
                    + config.port() + " (the socket is " + socket.get() + "), and PG_USER_NAME and PG_DB_NAME are right";
        }
        if (message.contains("pg_hba.conf method \"password\"")) {
            return "The password was not sent";
        }
        if (message.contains("no encryption")) {
            return "The server accepts only TLS connections: set PG_SSLMODE=require or verify-full";
        }
        return "Check that the server runs and PG_HOST, PG_PORT, PG_USER_NAME, PG_PASSWORD and PG_DB_NAME are right";
    }

    private static String hostForUrl(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        String line = message.strip().split("\\R", 2)[0];
        return line.endsWith(".") ? line.substring(0, line.length() - 1) : line;
    }
}
