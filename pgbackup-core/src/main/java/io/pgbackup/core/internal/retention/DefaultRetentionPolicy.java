package io.pgbackup.core.internal.retention;

import io.pgbackup.core.retention.RetentionPolicy;

import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;

import io.pgbackup.core.retention.RetentionPolicy.RetentionResult;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.archive.WalArchive;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManager;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.ProgressCounter;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.progress.ProgressListener;
import io.pgbackup.core.storage.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
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
 * <h2>Restores in progress</h2>
 * While a restore's marker in {@code restores/} lives, the backup it restores stays and so does
 * archived WAL from that backup's start on, on its timeline and later ones ({@link RestoreProtection});
 * {@link #execute} reads the markers again under the lock. Expired markers go as leftovers.
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
    private final BackupManager backupManager;

    public DefaultRetentionPolicy(PgBackupContext context, BackupManager backupManager) {
        this.context = context;
        this.backupManager = backupManager;
    }

    @Override
    public RetentionPlan plan() {
        Repository repository = context.repository();
        repository.requireInitialized();
        PgBackupConfig config = context.config();
        Instant now = context.clock().instant();
        RetentionPlan.Rules rules = new RetentionPlan.Rules(config.retainCount(), config.retainDays(), config.retainWalDays());
        RestoreProtection restores = RestoreProtection.read(repository, now);

        Repository.BaseListing base = repository.listBase();
        List<BackupInfo> newestFirst = new ArrayList<>(backupManager.list());
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
            Optional<String> restoring = restores.keeps(b.id());
            if (!stays && restoring.isPresent()) {
                stays = true;
                reason = restoring.get() + "; else it would go: " + reason;
            }
            RetentionPlan.BackupDecision d = new RetentionPlan.BackupDecision(b.id(), b.manifest().endTime(), age,
                    sizeOf(base.complete().get(b.id())), reason);
            (stays ? keep : delete).add(d);
            if (stays) {
                kept.add(b);
            }
        }

        ChainRetention.keepChains(newestFirst, keep, delete, kept);

        List<String> notes = new ArrayList<>(restores.notes());
        List<RetentionPlan.WalFloor> floors = new ArrayList<>();
        List<RetentionPlan.WalFile> walToDelete = new ArrayList<>();
        // One listing of the WAL archive for the whole plan: the floors and the archive's temporary files.
        WalArchive archive = WalArchive.read(repository);
        planWal(archive, kept, rules, now, floors, walToDelete, notes, newestFirst.isEmpty(), restores);
        List<RetentionPlan.Orphan> orphans = new ArrayList<>(planOrphans(repository, archive, base, now, notes));
        orphans.addAll(restores.expiredMarkers(repository));
        orphans.addAll(unusedWalKeysets(repository, walToDelete, now));

        long bytes = delete.stream().mapToLong(RetentionPlan.BackupDecision::bytes).sum()
                + walToDelete.stream().mapToLong(RetentionPlan.WalFile::bytes).sum()
                + orphans.stream().mapToLong(RetentionPlan.Orphan::bytes).sum();
        return new RetentionPlan(now, rules, keep, delete, floors, walToDelete, orphans, bytes, notes);
    }

    private static void planWal(WalArchive archive, List<BackupInfo> kept, RetentionPlan.Rules rules, Instant now,
                                List<RetentionPlan.WalFloor> floors, List<RetentionPlan.WalFile> walToDelete,
                                List<String> notes, boolean noBackups, RestoreProtection restores) {
        if (kept.isEmpty()) {
            notes.add((noBackups ? "there are no backups" : "no backup is kept")
                    + ", so no WAL is deleted: WAL can only be judged against a backup that replays it (run 'pgbackup backup')");
            return;
        }
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
            archive.timelines().history(tli).forEach(s -> ancestorsOrSelf.add(s.parentTimeline()));
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
        int heldByRestores = 0;
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
            if (restores.keepsWal(wal.group(1)).isPresent()) {
                heldByRestores++;
                continue;
            }
            walToDelete.add(new RetentionPlan.WalFile(entry.key().substring(Repository.WAL_PREFIX.length()), entry.size(),
                    entry.archivedAt()));
        }
        if (heldByRestores > 0) {
            notes.add(heldByRestores + " WAL file(s) older than the kept range stay for the restore(s) in progress above");
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

    private static List<RetentionPlan.Orphan> planOrphans(Repository repository, WalArchive archive, Repository.BaseListing base,
                                                          Instant now,
                                                          List<String> notes) {
        List<RetentionPlan.Orphan> orphans = new ArrayList<>();
        try {
            for (Repository.LegacyLeftover left : repository.legacyLeftovers()) {
                Duration age = Duration.between(left.modified(), now);
                if (!left.staging()) {
                    orphans.add(new RetentionPlan.Orphan(left.directory().toString(), List.of(), left.bytes(), "left by an interrupted cleanup"));
                } else if (age.compareTo(STAGING_MIN_AGE) > 0) {
                    orphans.add(new RetentionPlan.Orphan(left.directory().toString(), List.of(), left.bytes(),
                            "left by an interrupted backup (" + RetentionFormat.age(age) + " old)"));
                } else {
                    notes.add(left.directory().getFileName() + " is younger than " + STAGING_MIN_AGE.toHours()
                            + " hours and may belong to a running backup; left alone");
                }
            }
            for (Map.Entry<String, List<Storage.StoredObject>> e : base.incomplete().entrySet()) {
                Instant newest = e.getValue().stream().map(Storage.StoredObject::lastModified).max(Comparator.naturalOrder()).orElse(now);
                Duration age = Duration.between(newest, now);
                String location = repository.locationOf(Repository.backupKey(e.getKey()));
                if (age.compareTo(STAGING_MIN_AGE) > 0) {
                    orphans.add(new RetentionPlan.Orphan(location, e.getValue().stream().map(Storage.StoredObject::key).toList(),
                            sizeOf(e.getValue()), "incomplete backup (no manifest) left by an interrupted run ("
                            + RetentionFormat.age(age) + " old)"));
                } else {
                    notes.add(location + " is incomplete and younger than " + STAGING_MIN_AGE.toHours()
                            + " hours: it may be a running backup; left alone");
                }
            }
            for (Storage.StoredObject o : archive.hidden()) {
                if (!TEMP_FILE.matcher(o.name()).matches()) {
                    continue;
                }
                Duration age = Duration.between(o.lastModified(), now);
                if (age.compareTo(TEMP_MIN_AGE) > 0) {
                    orphans.add(new RetentionPlan.Orphan(repository.locationOf(o.key()), List.of(o.key()), o.size(),
                            "temporary file of an interrupted archive call (" + RetentionFormat.age(age) + " old)"));
                }
            }
        } catch (IOException e) {
            throw Repository.ioFailure("cannot read " + repository.location(), e);
        }
        return orphans;
    }

    @Override
    public RetentionResult execute(RetentionPlan plan) {
        return execute(plan, ProgressListener.NONE);
    }

    @Override
    public RetentionResult execute(RetentionPlan plan, ProgressListener progress) {
        ProgressCounter counter = new ProgressCounter("cleanup", plan.bytesFreed(), progress);
        Repository repository = context.repository();
        repository.requireInitialized();
        Instant started = context.clock().instant();
        List<String> deleted = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        long freed = 0;
        int walDeleted = 0;
        int orphansRemoved = 0;
        try (Storage.Lease ignored = repository.lease("cleanup", context.clock())) {
            // A restore may have started since the plan was made: what its marker keeps is skipped.
            RestoreProtection restores = RestoreProtection.read(repository, context.clock().instant());
            // Backups first: an interruption then leaves only WAL nobody needs, never a backup without its WAL.
            for (RetentionPlan.BackupDecision d : plan.delete()) {
                counter.add(d.bytes()); // told as it is taken up: deleted or skipped, it is dealt with
                List<String> keys = repository.storage().list(Repository.backupKey(d.id()) + "/").stream()
                        .map(Storage.StoredObject::key).toList();
                if (!keys.contains(Repository.manifestKey(d.id()))) {
                    skipped.add("backup " + d.id() + " (already gone)");
                    continue;
                }
                Optional<String> restoring = restores.keeps(d.id());
                if (restoring.isPresent()) {
                    skipped.add("backup " + d.id() + " (" + restoring.get() + ")");
                    continue;
                }
                repository.deleteBackup(d.id(), keys);
                log.info("deleted backup {}: {}", d.id(), d.reason());
                deleted.add(d.id());
                freed += d.bytes();
            }
            List<String> walKeys = new ArrayList<>();
            for (RetentionPlan.WalFile w : plan.walToDelete()) {
                String key = Repository.walKey(w.file());
                Matcher name = WAL_FILE.matcher(io.pgbackup.core.internal.storage.StoredName.parse(w.file()).stem());
                Optional<String> restoring = name.matches() ? restores.keepsWal(name.group(1)) : Optional.empty();
                if (restoring.isPresent()) {
                    skipped.add(key + " (" + restoring.get() + ")");
                } else if (repository.storage().stat(key).isPresent()) {
                    walKeys.add(key);
                    walDeleted++;
                    freed += w.bytes();
                } else {
                    skipped.add(key + " (already gone)");
                }
            }
            WalDeletion.delete(repository, walKeys, plan, counter);
            if (walDeleted > 0) {
                log.info("deleted {} WAL archive file(s)", walDeleted);
            }
            for (RetentionPlan.Orphan o : plan.orphans()) {
                counter.add(o.bytes());
                if (o.keys().size() == 1 && restores.isLive(o.keys().get(0))) {
                    skipped.add(o.location() + " (renewed since the plan: the restore runs)");
                    continue;
                }
                boolean removed;
                if (o.keys().isEmpty()) {
                    removed = repository.deleteLegacyLeftover(java.nio.file.Path.of(o.location()));
                } else {
                    removed = false;
                    for (String key : o.keys()) {
                        removed |= repository.storage().delete(key);
                    }
                }
                if (!removed) {
                    skipped.add(o.location() + " (already gone)");
                    continue;
                }
                orphansRemoved++;
                freed += o.bytes();
            }
        } catch (Storage.LeaseLostException e) {
            throw new PgBackupException(ErrorCode.LOCKED, "cleanup stopped: " + e.getMessage()
                    + "; run cleanup again once the other command is done", e);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cleanup stopped: " + e.getMessage()
                    + " (check permissions on " + repository.location() + "); run cleanup again to finish", e);
        }
        Duration took = Duration.between(started, context.clock().instant());
        return new RetentionResult(plan, deleted, walDeleted, orphansRemoved, freed, took, skipped);
    }

    /** WAL keyset records no kept sealed object names (issue 17): deleted after the WAL, as orphans are. */
    private static List<RetentionPlan.Orphan> unusedWalKeysets(Repository repository, List<RetentionPlan.WalFile> walToDelete,
                                                               Instant now) {
        java.util.Set<String> deleted = new java.util.HashSet<>();
        walToDelete.forEach(w -> deleted.add(Repository.WAL_PREFIX + w.file()));
        try {
            return io.pgbackup.core.internal.crypto.WalKeysets.unreferenced(repository.rawStorage(), deleted, now).stream()
                    .map(r -> new RetentionPlan.Orphan(repository.locationOf(r.key()), List.of(r.key()), r.size(),
                            "WAL keyset record no kept sealed object uses"))
                    .toList();
        } catch (IOException e) {
            throw Repository.ioFailure("cannot read " + repository.locationOf(Repository.WAL_PREFIX), e);
        }
    }

    private static long sizeOf(List<Storage.StoredObject> objects) {
        return objects == null ? 0 : objects.stream().mapToLong(Storage.StoredObject::size).sum();
    }
}
