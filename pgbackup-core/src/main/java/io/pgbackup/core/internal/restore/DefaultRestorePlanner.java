package io.pgbackup.core.internal.restore;

import io.pgbackup.core.internal.concurrent.Futures;
import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.restore.RestorePlan.ArchiveMode;
import io.pgbackup.core.restore.RestorePlan;

import io.pgbackup.core.restore.RestoreRequest;

import io.pgbackup.core.restore.RestorePlanner.RestoreResult;

import io.pgbackup.core.restore.RecoveryTarget;

import io.pgbackup.core.restore.RestorePlanner;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.archive.ArchiveScripts;
import io.pgbackup.core.internal.archive.TimelinePath;
import io.pgbackup.core.internal.archive.WalArchive;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManager;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredFileCheck;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Plans a restore as the spec's recovery procedure does it: which backup, the recovery target, the
 * archived WAL replay needs, the settings for postgresql.auto.conf. Everything that can refuse
 * refuses here, before anything on disk changes; {@link RestoreExecutor} carries the plan out.
 */
public final class DefaultRestorePlanner implements RestorePlanner {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DefaultRestorePlanner.class);

    private final PgBackupContext context;
    private final BackupManager backupManager;
    private final TargetDirectory targets;
    /** The WAL archive each plan was made from, so executing it does not list the archive again. */
    private final Map<RestorePlan, WalArchive> listings = new java.util.WeakHashMap<>();
    /** The chain (and whether a delta restore) each plan reassembles. */
    private final Map<RestorePlan, RestoreChain> chains = new java.util.WeakHashMap<>();

    public DefaultRestorePlanner(PgBackupContext context, BackupManager backupManager) {
        this.context = context;
        this.backupManager = backupManager;
        this.targets = new TargetDirectory(context);
    }

    @Override
    public RestorePlan plan(RestoreRequest request) {
        Repository repository = context.repository();
        List<BackupInfo> backups = backupManager.list();
        // Only the logs from the backup on, and history files by name: never the whole archive.
        WalArchive archive = WalArchive.sharded(repository);
        BackupInfo backup = chooseBackup(request, backups, archive);
        io.pgbackup.core.internal.crypto.ReadCheck.requireOpenable(repository, backup, archive, "restore");
        // After the read check: a sealed history file on a host without the key is its one line, not a parse failure.
        int timeline = TimelineChoice.resolve(request.timeline(), backup, archive);
        Path targetDir = request.targetDir().or(() -> context.config().pgData()).orElseThrow(() ->
                new PgBackupException(ErrorCode.INVALID_CONFIG, "no target directory: set PGDATA or give --target-dir DIR"));
        log.debug("planning a restore of {}", backup.id());
        RestoreChain chain = RestoreChain.of(backup, backups, request.delta());
        if (request.delta() && request.moveAside()) {
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "--delta rewrites the directory in place and --move-aside"
                    + " renames it first: give one of them");
        }
        TargetDirectory checks = request.delta() ? targets.forDelta() : targets;
        Optional<Path> aside;
        if (request.delta()) {
            checks.checkDelta(targetDir, backup.manifest().systemIdentifier());
            aside = Optional.empty();
        } else {
            aside = targets.check(targetDir, request.moveAside());
        }
        boolean inPlace = context.config().pgData().map(p -> sameDirectory(p, targetDir)).orElse(false);
        List<RestorePlan.TablespaceTarget> tablespaces = Tablespaces.plan(backup.manifest(), targetDir,
                request.tablespaceMapping(), request.moveAside(), inPlace, checks);
        for (BackupInfo member : chain.members()) {
            checkBackupFiles(repository, member);
        }
        log.debug("backup files checked");

        List<String> warnings = new ArrayList<>();
        List<RestorePlan.WalNeed> wal = walNeeds(backup, request.target(), archive, timeline, warnings);

        ArchiveScripts scripts = ArchiveScripts.of(context, repository);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("restore_command", scripts.restoreCommand());
        settings.putAll(request.target().settings());
        if (!(request.target() instanceof RecoveryTarget.EndOfWal)) {
            settings.put("recovery_target_action", request.action().setting());
        }
        settings.put("recovery_target_timeline", request.timeline().setting());
        settings.put("recovery_end_command", scripts.recoveryEndCommand());
        // A copy beside production (a test restore) must not promote and archive a timeline of its own into this repository.
        ArchiveMode archiveMode = request.archiveMode().orElse(inPlace ? ArchiveMode.PRESERVE : ArchiveMode.OFF);
        if (archiveMode == ArchiveMode.OFF) {
            settings.put("archive_mode", "off");
        }

        List<String> files = new ArrayList<>();
        aside.ifPresent(p -> files.add("rename " + targetDir + " to " + p + ", then create an empty " + targetDir));
        if (!Files.isExecutable(repository.restoreScript())) {
            files.add(repository.restoreScript() + " (missing: installed from this version)");
        }
        BackupManifest m = backup.manifest();
        files.addAll(chain.describe());
        if (request.delta()) {
            files.addAll(DeltaPreview.lines(repository, backup, targetDir, tablespaces));
        }
        files.add(targetDir + "/ from " + RestoreExecutor.fileOf(m, "base.tar"));
        files.add(targetDir.resolve("pg_wal") + "/ from " + RestoreExecutor.fileOf(m, "pg_wal.tar"));
        files.addAll(Tablespaces.describe(targetDir, tablespaces));
        long prefetched = wal.stream().filter(RestorePlan.WalNeed::present).limit(RestoreExecutor.prefetchLimit(repository)).count();
        if (prefetched > 0) {
            files.add(targetDir.resolve(RestoreExecutor.PREFETCH_DIR) + "/ (" + prefetched + " WAL segments decompressed ahead of replay)");
        }
        files.add(targetDir.resolve("postgresql.auto.conf") + " (recovery settings)");
        files.add(targetDir.resolve("recovery.signal").toString());
        RestorePlan plan = new RestorePlan(backup, targetDir, aside, request.target(), request.action(), wal, files, settings,
                warnings, tablespaces, archiveMode, timeline);
        synchronized (listings) {
            listings.put(plan, archive);
            chains.put(plan, chain);
        }
        return plan;
    }


    @Override
    public RestoreResult execute(RestorePlan plan) {
        return execute(plan, null);
    }

    @Override
    public RestoreResult execute(RestorePlan plan, io.pgbackup.core.progress.ProgressListener progress) {
        WalArchive archive;
        RestoreChain chain;
        synchronized (listings) {
            archive = listings.remove(plan);
            chain = chains.remove(plan);
        }
        if (chain == null) {
            // A plan made elsewhere (an embedder's): its chain is checked again here, as plan() would.
            chain = RestoreChain.of(plan.backup(), backupManager.list(), false);
        }
        return new RestoreExecutor(context, chain.delta() ? targets.forDelta() : targets, archive, progress, chain).execute(plan);
    }

    /** Whether two paths are one directory, by real location where they exist (a symlinked PGDATA is still PGDATA). */
    static boolean sameDirectory(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) {
                return Files.isSameFile(a, b);
            }
        } catch (java.io.IOException e) {
            // Unreadable: compare by name below.
        }
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }

    private BackupInfo chooseBackup(RestoreRequest request, List<BackupInfo> backups, WalArchive archive) {
        if (backups.isEmpty()) {
            throw new PgBackupException(ErrorCode.REFUSED, "there are no backups in " + context.repository().locationOf("base")
                    + ": take one with 'pgbackup backup'");
        }
        RecoveryTarget target = request.target();
        if (request.backupId().isPresent()) {
            BackupInfo chosen = backupManager.get(request.backupId().get());
            if (!endsBefore(chosen, target)) {
                Optional<BackupInfo> usable = newestEndingBefore(backups, target);
                throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "the target " + target.describe()
                        + " is before backup " + chosen.id() + " became consistent ("
                        + chosen.manifest().endTime() + ", LSN " + chosen.manifest().stopLsn() + "): "
                        + usable.map(b -> "use backup " + b.id() + " instead").orElse("no backup ends before it"));
            }
            return chosen;
        }
        if (request.timeline().number().isPresent()) {
            // A timeline named: the newest backup whose replay can reach it (latest is not filtered: skipping the
            // newest backup for an older one on a foreign timeline would restore the wrong history without a word).
            List<BackupInfo> reaching = backups.stream().filter(b -> TimelineChoice.reaches(request.timeline(), b, archive)).toList();
            if (reaching.isEmpty()) {
                TimelineChoice.resolve(request.timeline(), backups.get(backups.size() - 1), archive);
            }
            return newestEndingBefore(reaching, target).orElseThrow(() -> new PgBackupException(ErrorCode.INVALID_ARGUMENT,
                    "no backup that can replay " + request.timeline().describe() + " ends before the target " + target.describe()
                            + ": the oldest such, " + reaching.get(0).id() + ", ended at " + reaching.get(0).manifest().endTime()));
        }
        return newestEndingBefore(backups, target).orElseThrow(() -> new PgBackupException(ErrorCode.INVALID_ARGUMENT,
                "no backup ends before the target " + target.describe() + ": the oldest, " + backups.get(0).id()
                        + ", ended at " + backups.get(0).manifest().endTime()));
    }

    private static Optional<BackupInfo> newestEndingBefore(List<BackupInfo> backups, RecoveryTarget target) {
        for (int i = backups.size() - 1; i >= 0; i--) {
            if (endsBefore(backups.get(i), target)) {
                return Optional.of(backups.get(i));
            }
        }
        return Optional.empty();
    }

    /** Whether recovery from this backup can reach the target: it must be consistent before it. */
    private static boolean endsBefore(BackupInfo backup, RecoveryTarget target) {
        if (target instanceof RecoveryTarget.Time t) {
            return backup.manifest().endTime().isBefore(t.time());
        }
        if (target instanceof RecoveryTarget.Lsn l) {
            return Long.compareUnsigned(WalSegmentName.parseLsn(backup.manifest().stopLsn()), l.lsn()) <= 0;
        }
        return true;
    }

    /**
     * Sizes and SHA-256 of every stored file against the manifest, so a damaged backup is refused
     * before anything is written. From a bucket, sizes only: the SHA-256 is checked while the file
     * is extracted (one download, not two), and a mismatch fails the restore before recovery.signal.
     */
    private static void checkBackupFiles(Repository repository, BackupInfo backup) {
        List<BackupManifest.BackupFile> files = backup.manifest().files();
        if (RestoreExecutor.checksWhileExtracting(repository)) {
            for (BackupManifest.BackupFile f : files) {
                String problem;
                try {
                    String key = backup.fileKey(f.name());
                    problem = StoredFileCheck.sizeProblem(repository.storage().stat(key), f.size(),
                            repository.locationOf(key.substring(0, key.lastIndexOf('/'))));
                } catch (java.io.IOException e) {
                    throw new PgBackupException(ErrorCode.IO_FAILED, "cannot read backup " + backup.id() + ": " + e.getMessage(), e);
                }
                if (problem != null) {
                    throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, "backup " + backup.id() + " is damaged: "
                            + f.name() + " " + problem + "; nothing was restored. Use another backup (see 'pgbackup list', 'pgbackup verify --all')");
                }
            }
            return;
        }
        ExecutorService pool = Pools.fixed("pgbackup-restore-check", Math.min(files.size(), 2)).executor();
        try {
            List<Future<String>> problems = new ArrayList<>();
            for (BackupManifest.BackupFile f : files) {
                problems.add(pool.submit(() -> {
                    String problem = StoredFileCheck.check(repository, backup.fileKey(f.name()), f.size(), f.sha256());
                    return problem == null ? null : f.name() + " " + problem;
                }));
            }
            for (Future<String> p : problems) {
                String problem = p.get();
                if (problem != null) {
                    throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, "backup " + backup.id() + " is damaged: "
                            + problem + "; nothing was restored. Use another backup (see 'pgbackup list', 'pgbackup verify --all')");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgBackupException(ErrorCode.IO_FAILED, "interrupted while checking backup " + backup.id());
        } catch (ExecutionException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot read backup " + backup.id() + ": " + Futures.cause(e).getMessage(), e);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The archived segments replay needs beyond the backup's own (which pg_wal.tar holds), following
     * timeline switches to the latest timeline, up to where the target is expected; a gap before
     * that point is refused with the first missing segment.
     */
    private static List<RestorePlan.WalNeed> walNeeds(BackupInfo backup, RecoveryTarget target, WalArchive archive,
                                                      int timeline, List<String> warnings) {
        BackupManifest m = backup.manifest();
        if (target instanceof RecoveryTarget.Immediate) {
            return List.of();
        }
        long segmentSize = m.walSegmentSize();
        WalSegmentName stop = WalSegmentName.parse(m.stopWalFile(), segmentSize).orElseThrow();
        TimelinePath path = archive.timelines().pathTo(m.timeline(), timeline, segmentSize);
        long lastNeeded = lastSegmentNeeded(target, archive, path, stop);
        List<RestorePlan.WalNeed> needs = new ArrayList<>();
        String firstMissing = null;
        for (long segno = stop.segmentNumber() + 1; segno <= lastNeeded; segno++) {
            String name = path.segment(segno).fileName();
            boolean present = archive.find(name).isPresent();
            needs.add(new RestorePlan.WalNeed(name, present));
            if (!present && firstMissing == null) {
                firstMissing = name;
            }
        }
        if (firstMissing != null) {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, "the WAL archive has a gap: " + firstMissing
                    + " is missing between backup " + backup.id() + " and the target " + target.describe()
                    + "; replay would stop there. Restore from a later backup, a target before the gap, or find the segment");
        }
        if (target instanceof RecoveryTarget.Time t) {
            Optional<WalArchive.Entry> newest = needs.isEmpty() ? Optional.empty()
                    : archive.find(needs.get(needs.size() - 1).segment());
            if (newest.map(e -> e.archivedAt().isBefore(t.time().toInstant())).orElse(true)) {
                warnings.add("the archive holds no WAL written after " + t.describe()
                        + " yet; recovery will stop at the end of the archive if the target is not reached");
            }
        }
        return needs;
    }

    private static long lastSegmentNeeded(RecoveryTarget target, WalArchive archive, TimelinePath path,
                                          WalSegmentName stop) {
        if (target instanceof RecoveryTarget.Lsn l) {
            long targetSegment = Long.divideUnsigned(l.lsn(), path.segmentSize());
            return Math.min(path.newestArchived(archive, stop.segmentNumber(), targetSegment, e -> false), targetSegment);
        }
        long newest = target instanceof RecoveryTarget.Time t
                // A sharded view stops listing at the first log holding WAL archived after the target time.
                ? path.newestArchived(archive, stop.segmentNumber(), Long.MAX_VALUE,
                        e -> !e.archivedAt().isBefore(t.time().toInstant()))
                : path.newestArchived(archive, stop.segmentNumber());
        if (target instanceof RecoveryTarget.Time t) {
            // The first segment archived after the target time holds the target or later: no need to look further.
            for (long segno = stop.segmentNumber() + 1; segno <= newest; segno++) {
                Optional<WalArchive.Entry> e = archive.find(path.segment(segno).fileName());
                if (e.isPresent() && !e.get().archivedAt().isBefore(t.time().toInstant())) {
                    return segno;
                }
            }
        }
        return newest;
    }
}
