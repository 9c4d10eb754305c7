package io.pgbackup.core.internal.report;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.archive.WalArchive;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.report.ReportModel;
import io.pgbackup.core.status.StatusReport;

import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Builds the report from the backup list, the status report and one listing of the WAL archive. */
public final class ReportBuilder {
    private ReportBuilder() {
    }

    public static ReportModel build(Repository repository, List<BackupInfo> backups, StatusReport status, Clock clock) {
        long segmentSize = backups.isEmpty() ? WalSegmentName.DEFAULT_SEGMENT_SIZE
                : backups.get(backups.size() - 1).manifest().walSegmentSize();
        if (segmentSize <= 0) {
            segmentSize = WalSegmentName.DEFAULT_SEGMENT_SIZE;
        }
        // timeline -> segment number -> archive time
        Map<Integer, TreeMap<Long, Instant>> archived = new TreeMap<>();
        for (WalArchive.Entry e : WalArchive.read(repository).entries().values()) {
            Optional<WalSegmentName> name = WalSegmentName.parse(e.name(), segmentSize);
            if (name.isPresent()) {
                archived.computeIfAbsent(name.get().timeline(), t -> new TreeMap<>())
                        .put(name.get().segmentNumber(), e.archivedAt());
            }
        }
        List<ReportModel.WalRange> ranges = new ArrayList<>();
        List<ReportModel.WalGap> gaps = new ArrayList<>();
        for (Map.Entry<Integer, TreeMap<Long, Instant>> tl : archived.entrySet()) {
            int timeline = tl.getKey();
            Long first = null;
            Long prev = null;
            for (long segno : tl.getValue().keySet()) {
                if (prev != null && segno != prev + 1) {
                    ranges.add(range(timeline, first, prev, tl.getValue(), segmentSize));
                    gaps.add(new ReportModel.WalGap(timeline, name(timeline, prev, segmentSize), name(timeline, segno, segmentSize),
                            segno - prev - 1, time(tl.getValue().get(prev)), time(tl.getValue().get(segno))));
                    first = segno;
                } else if (first == null) {
                    first = segno;
                }
                prev = segno;
            }
            if (first != null) {
                ranges.add(range(timeline, first, prev, tl.getValue(), segmentSize));
            }
        }
        Map<String, StatusReport.BackupVerification> verified = status.backups() == null ? Map.of()
                : status.backups().verification().stream()
                .collect(Collectors.toMap(StatusReport.BackupVerification::backupId, v -> v, (a, b) -> b));
        List<ReportModel.Backup> entries = new ArrayList<>();
        for (BackupInfo b : backups) {
            BackupManifest m = b.manifest();
            OffsetDateTime until = recoverableUntil(m, archived.get(m.timeline()), segmentSize);
            StatusReport.BackupVerification v = verified.get(b.id());
            entries.add(new ReportModel.Backup(b.id(), m.startTime(), m.endTime(), m.durationMillis(), b.storedBytes(),
                    m.databaseSizeBytes(), m.timeline(), m.startWalFile(), m.stopWalFile(),
                    v == null ? null : v.lastVerified(), v == null ? null : v.lastVerifyOk(), v == null ? null : v.provenAt(),
                    until));
        }
        ReportModel.Window window = entries.stream().filter(e -> e.recoverableUntil() != null)
                .min(Comparator.comparing(ReportModel.Backup::end))
                .map(oldest -> new ReportModel.Window(oldest.end(), entries.stream().map(ReportModel.Backup::recoverableUntil)
                        .filter(java.util.Objects::nonNull).max(Comparator.naturalOrder()).orElseThrow()))
                .orElse(null);
        List<ReportModel.Finding> findings = new ArrayList<>();
        if (status.reasons().isEmpty()) {
            findings.add(new ReportModel.Finding("status", status.verdict().name(), "Nothing to report."));
        }
        status.reasons().forEach(r -> findings.add(new ReportModel.Finding("status", status.verdict().name(), r)));
        gaps.forEach(g -> findings.add(new ReportModel.Finding("wal", "WARN", g.missing() + " WAL segment(s) missing between "
                + g.after() + " and " + g.before() + ": no restore can replay across this gap.")));
        // A gap in the archive is at least a warning, even where status does not look for one.
        String verdict = !gaps.isEmpty() && status.verdict() == StatusReport.Verdict.OK ? "WARN" : status.verdict().name();
        return new ReportModel(OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC), repository.location(),
                verdict, entries, ranges, gaps, window, findings);
    }

    /** The archive time of the last segment continuous from the backup's stop segment; null if that one is missing. */
    private static OffsetDateTime recoverableUntil(BackupManifest m, TreeMap<Long, Instant> segments, long segmentSize) {
        Optional<WalSegmentName> stop = Optional.ofNullable(m.stopWalFile()).flatMap(n -> WalSegmentName.parse(n, segmentSize));
        if (segments == null || stop.isEmpty()) {
            return null;
        }
        long segno = stop.get().segmentNumber();
        if (!segments.containsKey(segno)) {
            return null;
        }
        while (segments.containsKey(segno + 1)) {
            segno++;
        }
        OffsetDateTime last = time(segments.get(segno));
        return last == null || last.isBefore(m.endTime()) ? m.endTime() : last;
    }

    private static ReportModel.WalRange range(int timeline, long first, long last, TreeMap<Long, Instant> times, long segmentSize) {
        return new ReportModel.WalRange(timeline, name(timeline, first, segmentSize), name(timeline, last, segmentSize),
                last - first + 1, time(times.get(first)), time(times.get(last)));
    }

    private static String name(int timeline, long segno, long segmentSize) {
        return new WalSegmentName(timeline, segno, segmentSize).fileName();
    }

    private static OffsetDateTime time(Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }
}
