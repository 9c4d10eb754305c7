package io.pgbackup.core.postgres;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Opens JDBC connections to the configured cluster. The password goes into the driver's
 * properties only; failures become one line naming host, port, user and database (never the
 * password) and what to check.
 */
public final class PgConnector {
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
        String url = "jdbc:postgresql://" + hostForUrl(config.host()) + ":" + config.port() + "/" + database;
        try {
            return DriverManager.getConnection(url, properties);
        } catch (SQLException e) {
            throw new PgBackupException(ErrorCode.CONNECTION_FAILED, "cannot connect to PostgreSQL at "
                    + config.host() + ":" + config.port() + " as " + user + " (database " + database + "): "
                    + firstLine(e.getMessage())
                    + ". Check that the server runs and PG_HOST, PG_PORT, PG_USER_NAME, PG_PASSWORD and PG_DB_NAME are right",
                    e);
        }
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
