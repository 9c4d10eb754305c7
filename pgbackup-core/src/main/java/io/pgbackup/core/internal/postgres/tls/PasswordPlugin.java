package io.pgbackup.core.internal.postgres.tls;

import org.postgresql.plugin.AuthenticationPlugin;
import org.postgresql.plugin.AuthenticationRequestType;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

import java.util.Properties;

/** pgjdbc's password source: the configured password, except a cleartext request on a connection without TLS. */
public final class PasswordPlugin implements AuthenticationPlugin {
    private final Properties properties;

    public PasswordPlugin(Properties properties) {
        this.properties = properties;
    }

    @Override
    public char[] getPassword(AuthenticationRequestType type) throws PSQLException {
        if (type == AuthenticationRequestType.CLEARTEXT_PASSWORD && !JdbcTls.isTls(properties)) {
            throw new PSQLException(JdbcTls.cleartextRefusal(properties.getProperty("PGHOST", "?") + ":"
                    + properties.getProperty("PGPORT", "?")), PSQLState.CONNECTION_REJECTED);
        }
        String password = properties.getProperty("password");
        return password == null ? null : password.toCharArray();
    }
}
