package io.pgbackup.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of this library, as Maven built it. */
public final class PgBackupVersion {
    private PgBackupVersion() {
    }

    public static String get() {
        try (InputStream in = PgBackupVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
