package io.pgbackup.core.internal.backup;

import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.backup.BackupPlan;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.internal.incremental.ChainPlanner;
import io.pgbackup.core.internal.incremental.PageRule;
import io.pgbackup.core.internal.incremental.ParentFiles;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredName;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * How a diff or incr is taken. PostgreSQL 17+ with {@code summarize_wal = on} and WAL summaries
 * reaching back to the parent's start: the server builds the {@code INCREMENTAL.*} files from its
 * summaries (the parent's {@code backup_manifest} is uploaded first). Otherwise pgbackup filters
 * pages by LSN; when the parent was itself taken from summaries (its manifest lists no whole file
 * sizes) that is impossible and a full is taken.
 */
final class IncrementalPath {
    static final String PAGE_LSN = "page-lsn";
    static final String SUMMARIES = "summaries";
    static final int SUMMARIES_VERSION = 170000;
    private static final Logger log = LoggerFactory.getLogger(IncrementalPath.class);

    /** The decision (a full when no path works), the method recorded in the manifest, and what the method needs. */
    record Chosen(ChainPlanner.Decision decision, String method, Optional<byte[]> parentManifest, Optional<PageRule> rule) {
    }

    private IncrementalPath() {
    }

    /** Whether the server can send incrementals from summaries at all (the planner keeps summaries parents usable then). */
    static boolean summarizing(BackupRun.ServerFacts facts) {
        return facts.info().versionNum() >= SUMMARIES_VERSION && "on".equals(facts.info().setting("summarize_wal"));
    }

    static Chosen choose(PgBackupContext context, ChainPlanner.Decision decision, BackupRun.ServerFacts facts) {
        if (decision.parent().isEmpty()) {
            return new Chosen(decision, null, Optional.empty(), Optional.empty());
        }
        BackupManifest parent = decision.parent().get();
        if (facts.info().versionNum() < SUMMARIES_VERSION) {
            return pageLsn(context.repository(), decision, null);
        }
        Optional<String> why = summarizing(facts) ? uncovered(context, parent)
                : Optional.of("summarize_wal is off on the server (turn it on for incrementals from WAL summaries)");
        if (why.isPresent()) {
            log.info("not using WAL summaries: {}", why.get());
            return pageLsn(context.repository(), decision, why.get());
        }
        return new Chosen(decision, SUMMARIES, Optional.of(readManifest(context.repository(), parent)), Optional.empty());
    }

    /** The page-LSN path, or a full when the parent (taken from summaries) lists no whole file sizes. */
    static Chosen pageLsn(Repository repository, ChainPlanner.Decision decision, String why) {
        BackupManifest parent = decision.parent().orElseThrow();
        if (SUMMARIES.equals(parent.incrementalMethod()) && parent.fileList() == null) {
            String reason = (why == null ? "" : why + "; ") + "the parent " + parent.id()
                    + " was taken from WAL summaries, so filtering pages against it is impossible";
            log.warn("taking a full backup instead of {}: {}", decision.plan().type(), reason);
            return new Chosen(new ChainPlanner.Decision(new BackupPlan(BackupManifest.FULL, decision.plan().requested(), null,
                    List.of(), reason), Optional.empty()), null, Optional.empty(), Optional.empty());
        }
        PageRule rule = new PageRule(WalSegmentName.parseLsn(parent.startLsn()), ParentFiles.read(repository, parent));
        return new Chosen(decision, PAGE_LSN, Optional.empty(), Optional.of(rule));
    }

    /**
     * Empty when the server holds a WAL summary on the parent's timeline starting at or before the
     * parent's start (summaries are contiguous while summarize_wal stays on; a gap the server finds
     * itself, and its refusal falls back to the page-LSN path too).
     */
    private static Optional<String> uncovered(PgBackupContext context, BackupManifest parent) {
        try (Connection c = context.connector().open();
             PreparedStatement st = c.prepareStatement("SELECT count(*) FROM pg_available_wal_summaries()"
                     + " WHERE tli = ? AND start_lsn <= ?::pg_lsn")) {
            st.setLong(1, parent.timeline());
            st.setString(2, parent.startLsn());
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0 ? Optional.empty() : Optional.of("the server's WAL summaries do not reach back to the"
                        + " parent " + parent.id() + "'s start " + parent.startLsn() + " on timeline " + parent.timeline());
            }
        } catch (SQLException e) {
            return Optional.of("cannot list the server's WAL summaries: " + e.getMessage());
        }
    }

    /** The parent's backup_manifest as the server wrote it (stored possibly compressed). */
    private static byte[] readManifest(Repository repository, BackupManifest parent) {
        BackupManifest.BackupFile file = parent.files().stream()
                .filter(f -> StoredName.parse(f.name()).stem().equals(StoringSink.PG_MANIFEST)).findFirst()
                .orElseThrow(() -> new PgBackupException(ErrorCode.IO_FAILED, "the parent backup " + parent.id()
                        + " has no backup_manifest; take a full backup (--type full)"));
        String key = Repository.backupFileKey(parent.id(), file.name());
        try (InputStream raw = repository.storage().open(key);
             InputStream in = StoredName.parse(file.name()).compression().decompress(raw)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot read the backup_manifest of the parent backup " + parent.id()
                    + " (" + repository.locationOf(key) + "): " + e.getMessage() + "; take a full backup (--type full)", e);
        }
    }
}
