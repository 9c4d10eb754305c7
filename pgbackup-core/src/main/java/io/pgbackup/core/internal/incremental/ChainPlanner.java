package io.pgbackup.core.internal.incremental;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.backup.BackupPlan;
import io.pgbackup.core.backup.BackupType;
import io.pgbackup.core.internal.archive.TimelineHistories;
import io.pgbackup.core.internal.archive.WalSegmentName;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

/**
 * Decides what a backup will be before it starts: which parent a diff or incr builds on, or why a
 * full is taken instead. A parent the page-LSN rule cannot vouch for (another cluster, another
 * major version, data checksums switched, a timeline that left the current history before the
 * parent ended, no record of its files) means a full, with the reason said.
 */
public final class ChainPlanner {
    private final ChainSettings settings;

    public ChainPlanner(ChainSettings settings) {
        this.settings = settings;
    }

    /** The server as the plan needs it; {@code dataChecksums} null when unknown. */
    /** @param summarizing the server can send incrementals from WAL summaries (17+, summarize_wal on) */
    public record Server(String systemIdentifier, int versionNum, int timeline, Boolean dataChecksums, boolean summarizing) {
        public Server(String systemIdentifier, int versionNum, int timeline, Boolean dataChecksums) {
            this(systemIdentifier, versionNum, timeline, dataChecksums, false);
        }

    }

    /** The plan, and the parent's manifest when it is a diff or incr. */
    public record Decision(BackupPlan plan, Optional<BackupManifest> parent) {
    }

    /**
     * @param backups  complete backups, oldest first
     * @param history  the switches recorded in a timeline's history file (empty when none is archived)
     */
    public Decision plan(BackupType requested, List<BackupInfo> backups, Server server, OffsetDateTime now,
                         IntFunction<List<TimelineHistories.TimelineSwitch>> history) {
        String asked = requested.cliName();
        if (requested == BackupType.FULL) {
            return full(asked, "asked for");
        }
        List<BackupManifest> mine = backups.stream().map(BackupInfo::manifest)
                .filter(m -> m.systemIdentifier().equals(server.systemIdentifier())).toList();
        Optional<BackupManifest> newestFull = mine.stream().filter(m -> !m.isIncremental()).reduce((a, b) -> b);
        if (newestFull.isEmpty()) {
            return full(asked, "no full backup of this cluster to build " + (requested == BackupType.DIFF ? "a diff" : "an incr") + " on");
        }
        BackupManifest parent;
        String type;
        String why;
        if (requested == BackupType.DIFF) {
            parent = newestFull.get();
            type = BackupManifest.DIFF;
            why = "changes since the newest full " + parent.id();
        } else {
            // the newest backup whose chain starts at the newest full
            String fullId = newestFull.get().id();
            parent = mine.stream().filter(m -> m.id().equals(fullId) || !m.chain().isEmpty() && m.chain().get(0).equals(fullId))
                    .reduce((a, b) -> b).orElseThrow();
            type = BackupManifest.INCR;
            why = "changes since the newest backup " + parent.id();
            if (requested == BackupType.AUTO) {
                Duration age = Duration.between(newestFull.get().startTime(), now);
                if (age.compareTo(Duration.ofDays(settings.fullIntervalDays())) >= 0) {
                    return full(asked, "the newest full " + fullId + " is " + age.toDays() + " days old ("
                            + ChainSettings.PG_BACKUP_FULL_INTERVAL_DAYS + "=" + settings.fullIntervalDays() + ")");
                }
                int length = parent.chain().size() + 1;
                if (length >= settings.maxChain()) {
                    return full(asked, "the chain of " + fullId + " is " + length + " backups long ("
                            + ChainSettings.PG_BACKUP_MAX_CHAIN + "=" + settings.maxChain() + ")");
                }
            }
        }
        Optional<String> unsafe = unsafe(parent, mine, server, history);
        if (unsafe.isPresent()) {
            return full(asked, unsafe.get());
        }
        List<String> chain = new ArrayList<>(parent.chain());
        chain.add(parent.id());
        return new Decision(new BackupPlan(type, asked, parent.id(), chain, why), Optional.of(parent));
    }

    /** Why this parent cannot be built on, if it cannot. */
    static Optional<String> unsafe(BackupManifest parent, List<BackupManifest> backups, Server server,
                                   IntFunction<List<TimelineHistories.TimelineSwitch>> history) {
        String p = "the parent " + parent.id();
        if (!parent.systemIdentifier().equals(server.systemIdentifier())) {
            return Optional.of(p + " is of another cluster (system identifier " + parent.systemIdentifier() + ", the server is "
                    + server.systemIdentifier() + ")");
        }
        if (parent.postgresVersionNum() / 10000 != server.versionNum() / 10000) {
            return Optional.of(p + " is of PostgreSQL " + parent.postgresVersionNum() / 10000 + ", the server runs "
                    + server.versionNum() / 10000);
        }
        if (parent.dataChecksums() == null || server.dataChecksums() == null) {
            return Optional.of(p + " does not record whether data checksums were on (taken by an older pgbackup)");
        }
        if (!parent.dataChecksums().equals(server.dataChecksums())) {
            return Optional.of("data checksums were turned " + (server.dataChecksums() ? "on" : "off") + " since " + p
                    + " (that rewrites every page without a new LSN)");
        }
        if (parent.fileList() == null && "summaries".equals(parent.incrementalMethod()) && !server.summarizing()) {
            return Optional.of(p + " was made from WAL summaries and the server no longer summarizes WAL (summarize_wal = off):"
                    + " filtering pages against it is impossible");
        }
        if (parent.fileList() == null && parent.file("backup_manifest").isEmpty()) {
            return Optional.of(p + " has no list of its files (taken by an older pgbackup of PostgreSQL 12)");
        }
        Map<String, BackupManifest> byId = backups.stream().collect(Collectors.toMap(BackupManifest::id, m -> m, (a, b) -> a));
        for (String id : parent.chain()) {
            if (!byId.containsKey(id)) {
                return Optional.of(p + " needs backup " + id + ", which is gone");
            }
        }
        if (parent.timeline() != server.timeline()) {
            long parentStop = WalSegmentName.parseLsn(parent.stopLsn());
            Optional<TimelineHistories.TimelineSwitch> left = history.apply(server.timeline()).stream()
                    .filter(s -> s.parentTimeline() == parent.timeline()).findFirst();
            if (left.isEmpty()) {
                return Optional.of(p + " is on timeline " + parent.timeline() + ", which is not in the history of the server's"
                        + " timeline " + server.timeline());
            }
            if (Long.compareUnsigned(parentStop, left.get().switchLsn()) > 0) {
                return Optional.of(p + " ended at " + parent.stopLsn() + " on timeline " + parent.timeline()
                        + ", after the server's timeline " + server.timeline() + " branched off at "
                        + WalSegmentName.formatLsn(left.get().switchLsn()));
            }
        }
        return Optional.empty();
    }

    private static Decision full(String asked, String reason) {
        return new Decision(new BackupPlan(BackupManifest.FULL, asked, null, List.of(), reason), Optional.empty());
    }
}
