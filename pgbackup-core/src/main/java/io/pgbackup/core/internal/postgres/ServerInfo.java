package io.pgbackup.core.internal.postgres;

import java.util.Map;

/**
 * What pgbackup reads from a live cluster: its version, identity, current timeline and the
 * settings that archiving and backups depend on.
 */
public record ServerInfo(int versionNum, String version, String systemIdentifier, int timeline,
                         long walSegmentSize, String dataDirectory, Map<String, String> settings,
                         boolean inRecovery) {
    /** Settings that {@code init} and {@code status} check. */
    public static final java.util.List<String> ARCHIVING_SETTINGS = java.util.List.of(
            "wal_level", "archive_mode", "archive_command", "archive_timeout", "max_wal_senders");

    public ServerInfo {
        settings = Map.copyOf(settings);
    }

    public int majorVersion() {
        return versionNum / 10000;
    }

    public String setting(String name) {
        return settings.getOrDefault(name, "");
    }

    /** Reads it over {@code connection}. */
    public static ServerInfo read(java.sql.Connection connection) throws java.sql.SQLException {
        int versionNum;
        String version;
        String systemId;
        int timeline;
        boolean inRecovery;
        try (var st = connection.createStatement()) {
            try (var rs = st.executeQuery("SELECT current_setting('server_version_num')::int, current_setting('server_version'),"
                    + " (SELECT system_identifier FROM pg_control_system())::text,"
                    + " (SELECT timeline_id FROM pg_control_checkpoint()), pg_is_in_recovery()")) {
                rs.next();
                versionNum = rs.getInt(1);
                version = rs.getString(2);
                systemId = rs.getString(3);
                timeline = rs.getInt(4);
                inRecovery = rs.getBoolean(5);
            }
            java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
            try (var rs = st.executeQuery("SELECT name, setting FROM pg_settings WHERE name IN "
                    + "('wal_level','archive_mode','archive_command','archive_timeout','max_wal_senders',"
                    + "'wal_segment_size','data_directory','data_checksums','restore_command','summarize_wal')")) {
                while (rs.next()) {
                    settings.put(rs.getString(1), rs.getString(2) == null ? "" : rs.getString(2));
                }
            }
            long segmentSize = Long.parseLong(settings.getOrDefault("wal_segment_size", "16777216"));
            // Before PG 11 wal_segment_size was in 8 kB pages; in scope (12+) it is in bytes.
            return new ServerInfo(versionNum, version, systemId, timeline, segmentSize,
                    settings.getOrDefault("data_directory", ""), settings, inRecovery);
        }
    }
}
