package io.pgbackup.core.internal.verify;

import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.PgBackupContext;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * The timeline the backed-up cluster is on, which verify judges the WAL chain along: another
 * timeline in the archive (a test restore that promoted and archived there) is not this
 * cluster's history and fails no backup. Read from the live cluster when it answers and is the
 * backups' cluster (same system identifier), else the newest backup's timeline.
 *
 * @param timeline the timeline
 * @param source   where it comes from, for the report ("the running cluster's", "the newest backup's")
 */
record ClusterTimeline(int timeline, String source) {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClusterTimeline.class);

    /** Empty when there is neither a live cluster of these backups nor a readable newest manifest. */
    static Optional<ClusterTimeline> resolve(PgBackupContext context, Optional<BackupManifest> newest) {
        if (newest.isEmpty()) {
            return Optional.empty();
        }
        return live(context, newest.get().systemIdentifier())
                .or(() -> Optional.of(new ClusterTimeline(newest.get().timeline(), "the newest backup's")));
    }

    private static Optional<ClusterTimeline> live(PgBackupContext context, String systemIdentifier) {
        try (Connection c = context.connector().open(); Statement st = c.createStatement();
             // A primary's current WAL file names its timeline at once; the checkpoint's lags a promotion.
             ResultSet rs = st.executeQuery("SELECT (SELECT system_identifier FROM pg_control_system())::text,"
                     + " CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())"
                     + " ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END")) {
            rs.next();
            if (systemIdentifier != null && !systemIdentifier.equals(rs.getString(1))) {
                log.debug("the configured cluster is not the backups' (system identifier {}): using the newest backup's timeline",
                        rs.getString(1));
                return Optional.empty();
            }
            return Optional.of(new ClusterTimeline(rs.getInt(2), "the running cluster's"));
        } catch (SQLException | RuntimeException e) {
            log.debug("cluster not reachable for its timeline ({}): using the newest backup's", e.getMessage());
            return Optional.empty();
        }
    }
}
