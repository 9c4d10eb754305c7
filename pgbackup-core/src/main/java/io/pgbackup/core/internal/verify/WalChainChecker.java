package io.pgbackup.core.internal.verify;

import io.pgbackup.core.internal.concurrent.Futures;
import io.pgbackup.core.verify.VerifyReport.VerifyCheck;

import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.archive.TimelineHistories;
import io.pgbackup.core.internal.archive.TimelinePath;
import io.pgbackup.core.internal.archive.WalArchive;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.backup.BackupManifest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * The WAL archive from a backup's start segment to the newest archived segment, along the
 * timelines a restore with {@code recovery_target_timeline = 'latest'} follows: the backup's own,
 * then each child named by the {@code .history} files, switching at the segment that holds the
 * branch point. Each archived file in range must decompress to its end, be one segment long and
 * start with a page header for its own position and this cluster's system identifier.
 *
 * <p>Segments from the backup's start to its stop are also in the backup's {@code pg_wal.tar};
 * one missing from the archive there does not fail this backup (it restores without it), but
 * any segment after the stop must be archived, since every later point in time needs it.
 *
 * <p>Results per archived file are shared between the backups of one run ({@code verify --all}
 * reads each file once).
 */
final class WalChainChecker {
    static final String CHECK_NAME = "wal archive";
    private static final int PROBLEMS_SHOWN = 3;

    private final WalArchive archive;
    private final ExecutorService pool;
    /** Archive file name to its problem, or empty when intact. */
    private final Map<String, Optional<String>> checked = new ConcurrentHashMap<>();
    /** Sealed segments this host has no private key for: present, sizes known, not opened. */
    private final java.util.concurrent.atomic.AtomicInteger sealedUnopened = new java.util.concurrent.atomic.AtomicInteger();

    /** The timeline the cluster is on; empty: the latest descendant of each backup's (as recovery follows). */
    private final Optional<ClusterTimeline> cluster;

    WalChainChecker(WalArchive archive, ExecutorService pool) {
        this(archive, pool, Optional.empty());
    }

    WalChainChecker(WalArchive archive, ExecutorService pool, Optional<ClusterTimeline> cluster) {
        // Without the key a sealed .history cannot be read: verify follows what it can and says so.
        this.archive = archive.skippingSealedHistories();
        this.pool = pool;
        this.cluster = cluster;
    }

    VerifyCheck check(BackupManifest m, Set<String> segmentsInBackup) {
        Instant start = Instant.now();
        long segmentSize = m.walSegmentSize();
        Optional<WalSegmentName> first = WalSegmentName.parse(m.startWalFile(), segmentSize);
        Optional<WalSegmentName> stop = WalSegmentName.parse(m.stopWalFile(), segmentSize);
        if (first.isEmpty() || stop.isEmpty()) {
            return VerifyCheck.failed(CHECK_NAME, "pgbackup_manifest.json names no valid start and stop WAL file ("
                    + m.startWalFile() + ", " + m.stopWalFile() + ")", BackupFilesChecker.since(start));
        }
        TimelinePath chain;
        try {
            chain = chain(m);
        } catch (PgBackupException e) {
            return VerifyCheck.failed(CHECK_NAME, e.getMessage(), BackupFilesChecker.since(start));
        }
        String branchProblem = branchProblem(m, chain, segmentSize);
        if (branchProblem != null) {
            return VerifyCheck.failed(CHECK_NAME, branchProblem, BackupFilesChecker.since(start));
        }

        long last = chain.newestArchived(archive, stop.get().segmentNumber());

        // One slot per segment in order, so the first missing or damaged file is the one named first.
        List<Future<Optional<String>>> slots = new ArrayList<>();
        int onlyInBackup = 0;
        int archived = 0;
        for (long segno = first.get().segmentNumber(); segno <= last; segno++) {
            String name = chain.segment(segno).fileName();
            Optional<WalArchive.Entry> entry = archive.find(name);
            if (entry.isPresent()) {
                archived++;
                WalArchive.Entry e = entry.get();
                slots.add(pool.submit(() -> checked.computeIfAbsent(e.key(),
                        k -> checkSegment(e, segmentSize, m.systemIdentifier()))));
            } else if (segno <= stop.get().segmentNumber() && segmentsInBackup.contains(name)) {
                onlyInBackup++;
            } else {
                slots.add(CompletableFuture.completedFuture(Optional.of(name + " is missing from the archive"
                        + (segno <= stop.get().segmentNumber() ? " and from the backup's pg_wal tar"
                        : ": no point in time after " + previous(segno, chain, segmentSize) + " can be recovered from this backup"))));
            }
        }
        List<String> ordered = new ArrayList<>();
        for (Future<Optional<String>> slot : slots) {
            try {
                slot.get().ifPresent(ordered::add);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return VerifyCheck.failed(CHECK_NAME, "interrupted", BackupFilesChecker.since(start));
            } catch (ExecutionException e) {
                ordered.add("cannot be checked: " + BackupFilesChecker.message(Futures.cause(e)));
            }
        }
        String range = first.get().fileName() + ".." + chain.segment(last).fileName();
        String timelines = chain.steps().size() == 1 ? "timeline " + m.timeline()
                : "timelines " + String.join("→", chain.timelines().stream().map(String::valueOf).toList());
        if (!ordered.isEmpty()) {
            String shown = String.join("; ", ordered.subList(0, Math.min(PROBLEMS_SHOWN, ordered.size())));
            return VerifyCheck.failed(CHECK_NAME, shown + (ordered.size() > PROBLEMS_SHOWN ? " (and " + (ordered.size() - PROBLEMS_SHOWN)
                    + " more)" : "") + " [checked " + range + " on " + timelines + "]", BackupFilesChecker.since(start));
        }
        return VerifyCheck.passed(CHECK_NAME, range + " continuous on " + timelines + ": " + archived + " archived segments intact"
                + (sealedUnopened.get() > 0 ? " (" + sealedUnopened.get() + " of them sealed: present, not opened, authenticity not"
                + " checked: no private key here)" : "")
                + (onlyInBackup > 0 ? ", " + onlyInBackup + " only in the backup's pg_wal tar" : "") + otherTimelines(chain)
                + unopenedHistories(),
                BackupFilesChecker.since(start));
    }

    /**
     * The backup's timeline, then each descendant up to the one the cluster is on (or, not knowing
     * it, the latest), with the segment where each begins.
     */
    private TimelinePath chain(BackupManifest m) {
        TimelinePath path = cluster.isPresent()
                ? archive.timelines().pathTo(m.timeline(), cluster.get().timeline(), m.walSegmentSize())
                : archive.timelines().pathFrom(m.timeline(), m.walSegmentSize());
        // Each history file on the way must itself be readable: recovery reads them all.
        path.timelines().stream().skip(1).forEach(archive.timelines()::history);
        return path;
    }

    /** A child that branched off before the backup was consistent cannot be followed from it. */
    private String branchProblem(BackupManifest m, TimelinePath chain, long segmentSize) {
        if (chain.steps().size() < 2) {
            return null;
        }
        int latest = chain.timelines().get(chain.steps().size() - 1);
        for (TimelineHistories.TimelineSwitch s : archive.timelines().history(latest)) {
            if (s.parentTimeline() == m.timeline()
                    && Long.compareUnsigned(s.switchLsn(), WalSegmentName.parseLsn(m.stopLsn())) < 0) {
                return "timeline " + chain.timelines().get(1) + " branched off timeline " + m.timeline() + " at "
                        + WalSegmentName.formatLsn(s.switchLsn()) + ", before this backup became consistent ("
                        + m.stopLsn() + "): recovery to the latest timeline cannot start from this backup";
            }
        }
        return null;
    }

    /**
     * Information, never a failure: timelines in the archive off the cluster's path (a restored
     * copy that promoted and archived there), each with where it branched off.
     */
    private String otherTimelines(TimelinePath chain) {
        if (cluster.isEmpty() || archive.isSharded()) {
            return "";
        }
        List<String> others = new ArrayList<>();
        for (int tli : archive.timelines().timelinesWithHistory()) {
            if (!chain.timelines().contains(tli)) {
                List<TimelineHistories.TimelineSwitch> h = archive.timelines().history(tli);
                others.add("timeline " + tli + (h.isEmpty() ? "" : " (branched off timeline " + h.get(h.size() - 1).parentTimeline()
                        + " at " + WalSegmentName.formatLsn(h.get(h.size() - 1).switchLsn()) + ")"));
            }
        }
        return others.isEmpty() ? "" : "; not followed, as the cluster is on timeline " + cluster.get().timeline() + " ("
                + cluster.get().source() + "): " + String.join(", ", others) + " (a restored copy's? information only)";
    }

    private String unopenedHistories() {
        List<String> names = archive.timelines().unopenedHistories();
        return names.isEmpty() ? "" : "; timeline history " + String.join(", ", names) + " sealed: not opened, authenticity and"
                + " content not checked (no private key here), so only the timelines read were followed";
    }

    private static String previous(long segno, TimelinePath chain, long segmentSize) {
        return chain.segment(segno - 1).fileName();
    }

    /** Decompresses one archived segment to its end; empty when intact, else one line naming the file. */
    private Optional<String> checkSegment(WalArchive.Entry entry, long segmentSize, String systemIdentifier) {
        String file = entry.key().substring(entry.key().lastIndexOf('/') + 1);
        byte[] header = new byte[40];
        int[] headerBytes = {0};
        try {
            if (io.pgbackup.core.internal.crypto.ReadCheck.sealedWithoutKey(archive.repository(), entry.key())) {
                sealedUnopened.incrementAndGet();
                return Optional.empty();
            }
            StoredFileReader.Outcome read = StoredFileReader.readFile(archive.repository(), entry.key(), entry.compression(), in -> {
                headerBytes[0] = in.readNBytes(header, 0, header.length);
                in.transferTo(java.io.OutputStream.nullOutputStream());
            });
            if (read.plainBytes() != segmentSize) {
                return Optional.of(file + " is damaged: it holds " + read.plainBytes() + " bytes, a WAL segment is " + segmentSize);
            }
            String headerProblem = headerProblem(entry.name(), header, headerBytes[0], segmentSize, systemIdentifier);
            return headerProblem == null ? Optional.empty() : Optional.of(file + " " + headerProblem);
        } catch (IOException | RuntimeException e) {
            return Optional.of(file + " is damaged: " + BackupFilesChecker.describe(entry.compression()) + " does not read to its end ("
                    + BackupFilesChecker.message(e) + ")");
        }
    }

    /**
     * A segment starts with XLogLongPageHeaderData: magic, info, timeline, the page's own LSN at
     * byte 8, then the system identifier at byte 24. A file archived under the wrong name, or from
     * another cluster, fails here although its compression is intact.
     */
    private static String headerProblem(String name, byte[] header, int length, long segmentSize, String systemIdentifier) {
        if (length < header.length) {
            return "is damaged: too short for a WAL page header";
        }
        long expectedLsn = WalSegmentName.parse(name, segmentSize).map(WalSegmentName::startLsn).orElse(-1L);
        for (ByteOrder order : List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN)) {
            ByteBuffer b = ByteBuffer.wrap(header).order(order);
            if (b.getLong(8) == expectedLsn) {
                String sysid = Long.toUnsignedString(b.getLong(24));
                return systemIdentifier == null || systemIdentifier.equals(sysid) ? null
                        : "belongs to another cluster (system identifier " + sysid + ", this backup's is " + systemIdentifier + ")";
            }
        }
        return "is not the segment its name says: its first page is not at " + WalSegmentName.formatLsn(expectedLsn);
    }
}
