package io.pgbackup.core.retention;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.archive.WalArchive;
import io.pgbackup.core.archive.WalSegmentName;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.DefaultBackupManager;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.storage.AtomicFiles;
import io.pgbackup.core.storage.Repository;
import io.pgbackup.core.storage.RepositoryLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The production {@link RetentionPolicy}.
 *
 * <h2>Backups</h2>
 * The newest {@code PG_BACKUP_RETAIN_COUNT} backups always stay. Any other backup goes once it is
 * older than {@code PG_BACKUP_RETAIN_DAYS} (age measured from its end, on the context's clock).
 *
 * <h2>WAL</h2>
 * A retained backup B (start segment S on timeline T) replays WAL from S on T and, following
 * {@code .history} files, on every timeline that descends from T. So, per timeline X, the oldest
 * segment that must stay is the smallest start segment among retained backups on X or on an
 * ancestor of X; on a timeline no retained backup can reach, the smallest start segment of any
 * retained backup (a precaution: an unrelated timeline's recent WAL is never removed). An archived
 * segment, {@code .partial} or {@code .backup} file is deleted only if it is below that floor
 * <em>and</em> was archived more than {@code PG_BACKUP_RETAIN_WAL_DAYS} ago. The WAL-days rule can
 * only keep more; it never deletes WAL a retained backup needs. {@code .history} files always stay.
 * With no retained backup at all, no WAL is deleted.
 *
 * <h2>Leftovers</h2>
 * {@code base/.staging-*} older than {@link #STAGING_MIN_AGE} (an interrupted backup: a running one
 * holds the lock, and {@link #execute} takes it), {@code base/.deleting-*} (an interrupted cleanup)
 * and hidden temp files in {@code wal_archive/} older than {@link #TEMP_MIN_AGE} (an archive call
 * that was killed).
 */
public final class DefaultRetentionPolicy implements RetentionPolicy {
    private static final Logger log = LoggerFactory.getLogger(DefaultRetentionPolicy.class);
    /** Staging directories younger than this are left alone even though the lock makes them orphans. */
    public static final Duration STAGING_MIN_AGE = Duration.ofHours(3);
    /** The archive script's and AtomicFiles' temporary files younger than this may be in use. */
    public static final Duration TEMP_MIN_AGE = Duration.ofHours(1);
    /** Segments, {@code .partial} and {@code .backup} files: the 24-digit segment name first. */
    private static final Pattern WAL_FILE = Pattern.compile("([0-9A-F]{24})(\\.partial|\\.[0-9A-F]{8}\\.backup)?");
    private static final Pattern HISTORY = Pattern.compile("([0-9A-F]{8})\\.history");
    /** archive_wal.sh: {@code .NAME.SUFFIX.tmp.PID}; AtomicFiles: {@code .NAME.tmp-UUID}. */
    private static final Pattern TEMP_FILE = Pattern.compile("\\..+\\.tmp[.-].*");

    private final PgBackupContext context;

    public DefaultRetentionPolicy(PgBackupContext context) {
        this.context = context;
    }

    @Override
    public RetentionPlan plan() {
        Repository repository = context.repository();
        repository.requireInitialized();
        PgBackupConfig config = context.config();
        Instant now = context.clock().instant();
        RetentionPlan.Rules rules = new RetentionPlan.Rules(config.retainCount(), config.retainDays(), config.retainWalDays());

        List<BackupInfo> newestFirst = new ArrayList<>(new DefaultBackupManager(context).list());
        newestFirst.sort(Comparator.comparing(BackupInfo::id).reversed());
        List<RetentionPlan.BackupDecision> keep = new ArrayList<>();
        List<RetentionPlan.BackupDecision> delete = new ArrayList<>();
        List<BackupInfo> kept = new ArrayList<>();
        Duration maxAge = Duration.ofDays(rules.retainDays());
        for (int i = 0; i < newestFirst.size(); i++) {
            BackupInfo b = newestFirst.get(i);
            Duration age = b.age(now);
            String reason;
            boolean stays;
            if (i < rules.retainCount()) {
                stays = true;
                reason = "one of the newest " + rules.retainCount() + " (PG_BACKUP_RETAIN_COUNT)";
            } else if (age.compareTo(maxAge) > 0) {
                stays = false;
                reason = "older than " + rules.retainDays() + " days (PG_BACKUP_RETAIN_DAYS) and not one of the newest "
                        + rules.retainCount();
            } else {
                stays = true;
                reason = "not older than " + rules.retainDays() + " days (PG_BACKUP_RETAIN_DAYS)";
            }
            RetentionPlan.BackupDecision d = new RetentionPlan.BackupDecision(b.id(), b.manifest().endTime(), age,
                    sizeOf(b.directory()), reason);
            (stays ? keep : delete).add(d);
            if (stays) {
                kept.add(b);
            }
        }

        List<String> notes = new ArrayList<>();
        List<RetentionPlan.WalFloor> floors = new ArrayList<>();
        List<RetentionPlan.WalFile> walToDelete = new ArrayList<>();
        planWal(repository, kept, rules, now, floors, walToDelete, notes, newestFirst.isEmpty());
        List<RetentionPlan.Orphan> orphans = planOrphans(repository, now, notes);

        long bytes = delete.stream().mapToLong(RetentionPlan.BackupDecision::bytes).sum()
                + walToDelete.stream().mapToLong(RetentionPlan.WalFile::bytes).sum()
                + orphans.stream().mapToLong(RetentionPlan.Orphan::bytes).sum();
        return new RetentionPlan(now, rules, keep, delete, floors, walToDelete, orphans, bytes, notes);
    }

    private static void planWal(Repository repository, List<BackupInfo> kept, RetentionPlan.Rules rules, Instant now,
                                List<RetentionPlan.WalFloor> floors, List<RetentionPlan.WalFile> walToDelete,
                                List<String> notes, boolean noBackups) {
        if (kept.isEmpty()) {
            notes.add((noBackups ? "there are no backups" : "no backup is kept")
                    + ", so no WAL is deleted: WAL can only be judged against a backup that replays it (run 'pgbackup backup')");
            return;
        }
        WalArchive archive = WalArchive.read(repository);
        long segmentSize = kept.get(0).manifest().walSegmentSize();

        // Every timeline the archive knows, from segment names and history files.
        Set<Integer> timelines = new HashSet<>();
        for (String name : archive.entries().keySet()) {
            Matcher wal = WAL_FILE.matcher(name);
            Matcher history = HISTORY.matcher(name);
            if (wal.matches()) {
                timelines.add((int) Long.parseLong(name.substring(0, 8), 16));
            } else if (history.matches()) {
                timelines.add((int) Long.parseLong(history.group(1), 16));
            }
        }
        kept.forEach(b -> timelines.add(b.manifest().timeline()));

        // The smallest start segment of any kept backup: the fallback floor for unrelated timelines.
        BackupInfo oldestStart = kept.stream().min(Comparator.comparingLong(b -> startSegment(b, segmentSize))).orElseThrow();
        long globalFloor = startSegment(oldestStart, segmentSize);

        Map<Integer, Long> floorByTimeline = new TreeMap<>();
        for (int tli : new java.util.TreeSet<>(timelines)) {
            Set<Integer> ancestorsOrSelf = new HashSet<>();
            ancestorsOrSelf.add(tli);
            archive.history(tli).forEach(s -> ancestorsOrSelf.add(s.parentTimeline()));
            Optional<BackupInfo> reaching = kept.stream()
                    .filter(b -> ancestorsOrSelf.contains(b.manifest().timeline()))
                    .min(Comparator.comparingLong(b -> startSegment(b, segmentSize)));
            long floor;
            String reason;
            if (reaching.isPresent()) {
                BackupInfo b = reaching.get();
                floor = startSegment(b, segmentSize);
                reason = "start of backup " + b.id() + (b.manifest().timeline() == tli ? ""
                        : " (timeline " + b.manifest().timeline() + ", which timeline " + tli + " descends from)")
                        + ", the oldest kept backup that replays this timeline";
            } else {
                floor = globalFloor;
                reason = "no kept backup replays this timeline; kept from the start of the oldest kept backup "
                        + oldestStart.id() + " as a precaution";
            }
            floorByTimeline.put(tli, floor);
            floors.add(new RetentionPlan.WalFloor(tli, new WalSegmentName(tli, floor, segmentSize).fileName(), reason));
        }

        Instant walCutoff = now.minus(Duration.ofDays(rules.retainWalDays()));
        int heldByWalDays = 0;
        for (WalArchive.Entry entry : archive.entries().values()) {
            Matcher wal = WAL_FILE.matcher(entry.name());
            if (!wal.matches()) {
                continue; // .history files and anything unknown stay
            }
            WalSegmentName segment = WalSegmentName.parse(wal.group(1), segmentSize).orElseThrow();
            long floor = floorByTimeline.getOrDefault(segment.timeline(), globalFloor);
            if (segment.segmentNumber() >= floor) {
                continue;
            }
            if (!entry.archivedAt().isBefore(walCutoff)) {
                heldByWalDays++;
                continue;
            }
            walToDelete.add(new RetentionPlan.WalFile(entry.path().getFileName().toString(), sizeOf(entry.path()),
                    entry.archivedAt()));
        }
        if (heldByWalDays > 0) {
            notes.add(heldByWalDays + " WAL file(s) older than the kept range stay until they are "
                    + rules.retainWalDays() + " days old (PG_BACKUP_RETAIN_WAL_DAYS)");
        }
    }

    private static long startSegment(BackupInfo backup, long segmentSize) {
        return WalSegmentName.parse(backup.manifest().startWalFile(), segmentSize)
                .orElseThrow(() -> new PgBackupException(ErrorCode.VERIFICATION_FAILED, "backup " + backup.id()
                        + " has a malformed start WAL file '" + backup.manifest().startWalFile()
                        + "' in its manifest; no WAL is deleted until it is fixed or the backup removed"))
                .segmentNumber();
    }

    private static List<RetentionPlan.Orphan> planOrphans(Repository repository, Instant now, List<String> notes) {
        List<RetentionPlan.Orphan> orphans = new ArrayList<>();
        try {
            for (Path dir : repository.deletingDirs()) {
                orphans.add(new RetentionPlan.Orphan(dir, sizeOf(dir), "left by an interrupted cleanup"));
            }
            for (Path dir : repository.stagingDirs()) {
                Duration age = Duration.between(Files.getLastModifiedTime(dir).toInstant(), now);
                if (age.compareTo(STAGING_MIN_AGE) > 0) {
                    orphans.add(new RetentionPlan.Orphan(dir, sizeOf(dir), "left by an interrupted backup ("
                            + RetentionFormat.age(age) + " old)"));
                } else {
                    notes.add(dir.getFileName() + " is younger than " + STAGING_MIN_AGE.toHours()
                            + " hours and may belong to a running backup; left alone");
                }
            }
            Path walDir = repository.walArchiveDir();
            if (Files.isDirectory(walDir)) {
                try (Stream<Path> files = Files.list(walDir)) {
                    for (Path p : files.sorted().toList()) {
                        if (!Files.isRegularFile(p) || !TEMP_FILE.matcher(p.getFileName().toString()).matches()) {
                            continue;
                        }
                        Duration age = Duration.between(Files.getLastModifiedTime(p).toInstant(), now);
                        if (age.compareTo(TEMP_MIN_AGE) > 0) {
                            orphans.add(new RetentionPlan.Orphan(p, Files.size(p), "temporary file of an interrupted archive call ("
                                    + RetentionFormat.age(age) + " old)"));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot read " + repository.root() + ": " + e.getMessage(), e);
        }
        return orphans;
    }

    @Override
    public RetentionResult execute(RetentionPlan plan) {
        Repository repository = context.repository();
        repository.requireInitialized();
        Instant started = context.clock().instant();
        List<String> deleted = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        long freed = 0;
        int walDeleted = 0;
        int orphansRemoved = 0;
        try (RepositoryLock ignored = RepositoryLock.acquire(repository, "cleanup", context.clock())) {
            // Backups first: an interruption then leaves only WAL nobody needs, never a backup without its WAL.
            for (RetentionPlan.BackupDecision d : plan.delete()) {
                Path dir = repository.backupPath(d.id());
                if (!Files.isDirectory(dir)) {
                    skipped.add("backup " + d.id() + " (already gone)");
                    continue;
                }
                Path doomed = repository.deletingPath(d.id());
                AtomicFiles.moveDurably(dir, doomed);
                AtomicFiles.deleteTree(doomed);
                log.info("deleted backup {}: {}", d.id(), d.reason());
                deleted.add(d.id());
                freed += d.bytes();
            }
            Path walDir = repository.walArchiveDir();
            for (RetentionPlan.WalFile w : plan.walToDelete()) {
                if (Files.deleteIfExists(walDir.resolve(w.file()))) {
                    walDeleted++;
                    freed += w.bytes();
                } else {
                    skipped.add("wal_archive/" + w.file() + " (already gone)");
                }
            }
            if (walDeleted > 0) {
                AtomicFiles.fsyncDirectory(walDir);
                log.info("deleted {} WAL archive file(s)", walDeleted);
            }
            for (RetentionPlan.Orphan o : plan.orphans()) {
                if (!Files.exists(o.path())) {
                    skipped.add(o.path() + " (already gone)");
                    continue;
                }
                AtomicFiles.deleteTree(o.path());
                orphansRemoved++;
                freed += o.bytes();
            }
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cleanup stopped: " + e.getMessage()
                    + " (check permissions on " + repository.root() + "); run cleanup again to finish", e);
        }
        Duration took = Duration.between(started, context.clock().instant());
        return new RetentionResult(plan, deleted, walDeleted, orphansRemoved, freed, took, skipped);
    }

    private static long sizeOf(Path path) {
        try {
            if (Files.isRegularFile(path)) {
                return Files.size(path);
            }
            try (Stream<Path> all = Files.walk(path)) {
                return all.filter(Files::isRegularFile).mapToLong(p -> {
                    try {
                        return Files.size(p);
                    } catch (NoSuchFileException gone) {
                        return 0;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }).sum();
            }
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
    }
}
