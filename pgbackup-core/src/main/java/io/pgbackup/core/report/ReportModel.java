package io.pgbackup.core.report;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code pgbackup report} shows: the backups, the archived WAL as contiguous ranges and the
 * gaps between them, the recoverable window, and findings (the status verdict's reasons; checks
 * from other sources are added with {@link #withFindings}).
 *
 * @param window when a restore can target, or null when no backup has its WAL archived
 */
public record ReportModel(OffsetDateTime generatedAt, String repositoryLocation, String verdict,
                          List<Backup> backups, List<WalRange> walRanges, List<WalGap> walGaps,
                          Window window, List<Finding> findings) {
    public ReportModel {
        backups = List.copyOf(backups);
        walRanges = List.copyOf(walRanges);
        walGaps = List.copyOf(walGaps);
        findings = List.copyOf(findings);
    }

    /**
     * One backup. {@code lastVerified}/{@code lastVerifyOk} are null when verify never ran on it;
     * {@code recoverableUntil} is the archive time of the last WAL file continuous from its end.
     */
    public record Backup(String id, OffsetDateTime start, OffsetDateTime end, long durationMillis, long storedBytes,
                         long databaseBytes, int timeline, String startWal, String stopWal, OffsetDateTime lastVerified,
                         Boolean lastVerifyOk, OffsetDateTime provenAt, OffsetDateTime recoverableUntil) {
    }

    /** Contiguous archived segments on one timeline, with the archive times of the first and the last. */
    public record WalRange(int timeline, String first, String last, long files, OffsetDateTime firstArchived,
                           OffsetDateTime lastArchived) {
    }

    /** Segments missing between two archived ones: WAL replay cannot cross it. */
    public record WalGap(int timeline, String after, String before, long missing, OffsetDateTime afterArchived,
                         OffsetDateTime beforeArchived) {
    }

    public record Window(OffsetDateTime from, OffsetDateTime to) {
    }

    /**
     * One finding in the report's checks section: where it comes from (e.g. {@code status}, or a
     * {@code check} name), its severity (OK, WARN, FAIL; check's own: WARNING, CRITICAL, UNKNOWN) and a sentence.
     */
    public record Finding(String source, String severity, String message) {
    }

    /**
     * The same report with {@code pgbackup check}'s findings appended, one row per problem with its
     * Nagios state ({@code WARNING}, {@code CRITICAL}, {@code UNKNOWN}); a clean check is one {@code OK} row with its summary.
     */
    public ReportModel withCheck(io.pgbackup.core.health.CheckReport check) {
        List<Finding> more = new ArrayList<>();
        for (io.pgbackup.core.health.CheckReport.Finding f : check.findings()) {
            more.add(new Finding("check " + f.key(), f.state().name(), f.message()));
        }
        if (more.isEmpty()) {
            more.add(new Finding("check", check.state().name(), check.summary()));
        }
        return withFindings(more);
    }

    /** The same report with more findings appended: the hook through which other checks are shown. */
    public ReportModel withFindings(List<Finding> more) {
        List<Finding> all = new ArrayList<>(findings);
        all.addAll(more);
        return new ReportModel(generatedAt, repositoryLocation, verdict, backups, walRanges, walGaps, window, all);
    }
}
