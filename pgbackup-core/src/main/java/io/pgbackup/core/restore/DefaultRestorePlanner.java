package io.pgbackup.core.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.archive.ArchiveScripts;
import io.pgbackup.core.archive.WalArchive;
import io.pgbackup.core.archive.WalSegmentName;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.backup.DefaultBackupManager;
import io.pgbackup.core.process.ProcessResult;
import io.pgbackup.core.process.ProcessSpec;
import io.pgbackup.core.storage.AtomicFiles;
import io.pgbackup.core.storage.BackgroundFsync;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.ReadAheadInputStream;
import io.pgbackup.core.storage.Repository;
import io.pgbackup.core.storage.RepositoryLock;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Restores as the spec's recovery procedure does: base backup extracted, its WAL into pg_wal/,
 * recovery settings in postgresql.auto.conf, recovery.signal last. Everything that can refuse
 * refuses in {@link #plan}, before anything on disk changes.
 */
public final class DefaultRestorePlanner implements RestorePlanner {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DefaultRestorePlanner.class);
    private static final DateTimeFormatter ASIDE_SUFFIX = DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss");
    /** Settings a previous recovery may have left in postgresql.auto.conf; ours replace them. */
    private static final List<String> RECOVERY_SETTINGS = List.of("restore_command", "recovery_target",
            "recovery_target_time", "recovery_target_lsn", "recovery_target_xid", "recovery_target_name",
            "recovery_target_action", "recovery_target_timeline", "recovery_target_inclusive", "recovery_end_command");
    /** Where restore puts decompressed WAL for restore_wal.sh to take, inside the target PGDATA. */
    static final String PREFETCH_DIR = "pgbackup_prefetch";
    /** At most this many segments (2 GiB at 16 MiB) are prefetched; the rest come through the script. */
    private static final int PREFETCH_LIMIT = 128;

    private final PgBackupContext context;

    public DefaultRestorePlanner(PgBackupContext context) {
        this.context = context;
    }

    @Override
    public RestorePlan plan(RestoreRequest request) {
        Repository repository = context.repository();
        List<BackupInfo> backups = new DefaultBackupManager(context).list();
        BackupInfo backup = chooseBackup(request, backups);
        Path targetDir = request.targetDir().or(() -> context.config().pgData()).orElseThrow(() ->
                new PgBackupException(ErrorCode.INVALID_CONFIG, "no target directory: set PGDATA or give --target-dir DIR"));
        log.debug("planning a restore of {}", backup.id());
        Optional<Path> aside = checkTargetDir(targetDir, request.moveAside());
        checkBackupFiles(backup);
        log.debug("backup files checked");

        List<String> warnings = new ArrayList<>();
        List<RestorePlan.WalNeed> wal = walNeeds(backup, request.target(), WalArchive.read(repository), warnings);

        ArchiveScripts scripts = new ArchiveScripts(repository, context.config().compression(), context.config().remote());
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("restore_command", scripts.restoreCommand());
        settings.putAll(request.target().settings());
        if (!(request.target() instanceof RecoveryTarget.EndOfWal)) {
            settings.put("recovery_target_action", request.action().setting());
        }
        settings.put("recovery_target_timeline", "latest");
        settings.put("recovery_end_command", scripts.recoveryEndCommand());

        List<String> files = new ArrayList<>();
        aside.ifPresent(p -> files.add("rename " + targetDir + " to " + p + ", then create an empty " + targetDir));
        if (!Files.isExecutable(repository.restoreScript())) {
            files.add(repository.restoreScript() + " (missing: installed from this version)");
        }
        BackupManifest m = backup.manifest();
        files.add(targetDir + "/ from " + fileOf(m, "base.tar"));
        files.add(targetDir.resolve("pg_wal") + "/ from " + fileOf(m, "pg_wal.tar"));
        long prefetched = wal.stream().filter(RestorePlan.WalNeed::present).limit(PREFETCH_LIMIT).count();
        if (prefetched > 0) {
            files.add(targetDir.resolve(PREFETCH_DIR) + "/ (" + prefetched + " WAL segments decompressed ahead of replay)");
        }
        files.add(targetDir.resolve("postgresql.auto.conf") + " (recovery settings)");
        files.add(targetDir.resolve("recovery.signal").toString());
        return new RestorePlan(backup, targetDir, aside, request.target(), request.action(), wal, files, settings, warnings);
    }

    @Override
    public RestoreResult execute(RestorePlan plan) {
        log.debug("restoring {} into {}", plan.backup().id(), plan.targetDir());
        Repository repository = context.repository();
        Instant start = Instant.now();
        try (RepositoryLock ignored = RepositoryLock.acquire(repository, "restore", context.clock())) {
            // The world may have moved since the plan was made (a server started): check again.
            checkTargetDir(plan.targetDir(), plan.moveAsideTo().isPresent());
            ensureRestoreScript(repository);
            prepareTarget(plan);
            long bytes;
            try {
                try (BackgroundFsync fsync = new BackgroundFsync()) {
                    bytes = extract(repository, plan, fsync);
                    log.debug("extracted {} bytes and prefetched WAL", bytes);
                    // Durable before recovery.signal; PostgreSQL's start-up sync then has nothing left to flush.
                    fsync.finish();
                    log.debug("synced");
                }
                writeRecoverySettings(plan.targetDir(), plan.recoverySettings());
                AtomicFiles.write(plan.targetDir().resolve("recovery.signal"), new byte[0]);
            } catch (IOException | PgBackupException e) {
                String why = e instanceof PgBackupException p ? p.getMessage() : e.getMessage();
                throw new PgBackupException(e instanceof SafeTarExtractor.UnsafeEntryException ? ErrorCode.VERIFICATION_FAILED
                        : ErrorCode.IO_FAILED, "restore failed: " + why + ". " + plan.targetDir()
                        + " holds a partial restore without recovery.signal: remove it and run restore again"
                        + plan.moveAsideTo().map(p -> "; the previous PGDATA is safe in " + p).orElse(""), e);
            }
            Duration took = Duration.between(start, Instant.now());
            return new RestoreResult(plan, took, bytes, nextSteps(plan));
        }
    }

    private BackupInfo chooseBackup(RestoreRequest request, List<BackupInfo> backups) {
        if (backups.isEmpty()) {
            throw new PgBackupException(ErrorCode.REFUSED, "there are no backups in " + context.repository().baseDir()
                    + ": take one with 'pgbackup backup'");
        }
        RecoveryTarget target = request.target();
        if (request.backupId().isPresent()) {
            BackupInfo chosen = new DefaultBackupManager(context).get(request.backupId().get());
            if (!endsBefore(chosen, target)) {
                Optional<BackupInfo> usable = newestEndingBefore(backups, target);
                throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "the target " + target.describe()
                        + " is before backup " + chosen.id() + " became consistent ("
                        + chosen.manifest().endTime() + ", LSN " + chosen.manifest().stopLsn() + "): "
                        + usable.map(b -> "use backup " + b.id() + " instead").orElse("no backup ends before it"));
            }
            return chosen;
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
     * Refuses a target that is in use or not empty; for the stopped cluster's own PGDATA with
     * {@code moveAside}, returns where it will be renamed to.
     */
    private Optional<Path> checkTargetDir(Path dir, boolean moveAside) {
        Optional<Long> pid = livePostmaster(dir);
        if (pid.isPresent()) {
            throw new PgBackupException(ErrorCode.REFUSED, "PostgreSQL is running in " + dir + " (pid " + pid.get()
                    + "): stop it first (pg_ctl -D " + dir + " stop, or systemctl stop postgresql)");
        }
        boolean isPgData = context.config().pgData().map(p -> p.equals(dir)).orElse(false);
        if (isPgData && serverAnswers()) {
            throw new PgBackupException(ErrorCode.REFUSED, "the server at "
                    + context.config().serverDescription() + " is running and " + dir + " is PGDATA: stop PostgreSQL before restoring into it");
        }
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS) || isEmptyDir(dir)) {
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new PgBackupException(ErrorCode.REFUSED, dir + " is a file, not a directory: give another --target-dir");
            }
            return Optional.empty();
        }
        if (isPgData && moveAside) {
            LocalDateTime now = LocalDateTime.now(context.clock());
            Path aside = dir.resolveSibling(dir.getFileName() + ".pre-restore-" + ASIDE_SUFFIX.format(now));
            if (Files.exists(aside)) {
                throw new PgBackupException(ErrorCode.REFUSED, aside + " already exists: wait a second and run restore again");
            }
            return Optional.of(aside);
        }
        if (isPgData) {
            throw new PgBackupException(ErrorCode.REFUSED, dir + " is the cluster's PGDATA and not empty: with PostgreSQL"
                    + " stopped, add --move-aside to rename it to " + dir.getFileName() + ".pre-restore-<time> first,"
                    + " or restore into an empty --target-dir");
        }
        throw new PgBackupException(ErrorCode.REFUSED, dir + " is not empty: restore into an empty or new directory"
                + " (--target-dir), or move its contents away first");
    }

    private static Optional<Long> livePostmaster(Path dir) {
        Path pidFile = dir.resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        try {
            String first = Files.readAllLines(pidFile, StandardCharsets.UTF_8).stream().findFirst().orElse("").trim();
            long pid = Long.parseLong(first);
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(h -> pid);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private boolean serverAnswers() {
        try {
            if (!context.binaries().has("pg_isready")) {
                return false;
            }
            ProcessResult r = context.processRunner().run(ProcessSpec.of(context.binaries().tool("pg_isready").toString(),
                    "-q", "-h", context.config().host(), "-p", String.valueOf(context.config().port()), "-t", "3")
                    .withTimeout(Duration.ofSeconds(10)));
            // 0: accepting connections; 1: rejecting (starting up or shutting down) — both mean it runs.
            return r.exitCode() == 0 || r.exitCode() == 1;
        } catch (IOException | PgBackupException e) {
            return false;
        }
    }

    private static boolean isEmptyDir(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** Sizes and SHA-256 of every stored file against the manifest, so a damaged backup is refused before anything is written. */
    private static void checkBackupFiles(BackupInfo backup) {
        List<BackupManifest.BackupFile> files = backup.manifest().files();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(files.size(), 2)));
        try {
            List<Future<String>> problems = new ArrayList<>();
            for (BackupManifest.BackupFile f : files) {
                problems.add(pool.submit(() -> problemWith(backup.directory().resolve(f.name()), f)));
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
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot read backup " + backup.id() + ": " + e.getCause().getMessage(), e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static String problemWith(Path file, BackupManifest.BackupFile expected) throws IOException {
        if (!Files.isRegularFile(file)) {
            return expected.name() + " is missing";
        }
        long size = Files.size(file);
        if (size != expected.size()) {
            return expected.name() + " is " + size + " bytes, the manifest says " + expected.size() + " (truncated?)";
        }
        MessageDigest sha = sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        String actual = HexFormat.of().formatHex(sha.digest());
        return actual.equals(expected.sha256()) ? null : expected.name() + " has SHA-256 " + actual + ", the manifest says " + expected.sha256();
    }

    /**
     * The archived segments replay needs beyond the backup's own (which pg_wal.tar holds), following
     * timeline switches to the latest timeline, up to where the target is expected; a gap before
     * that point is refused with the first missing segment.
     */
    private static List<RestorePlan.WalNeed> walNeeds(BackupInfo backup, RecoveryTarget target, WalArchive archive,
                                                      List<String> warnings) {
        BackupManifest m = backup.manifest();
        if (target instanceof RecoveryTarget.Immediate) {
            return List.of();
        }
        long segmentSize = m.walSegmentSize();
        WalSegmentName stop = WalSegmentName.parse(m.stopWalFile(), segmentSize).orElseThrow();
        int latest = archive.latestTimelineFrom(m.timeline());
        List<WalArchive.TimelineSwitch> history = archive.history(latest);
        // Timeline t starts at the segment holding its switch point; before that its parent is read.
        List<int[]> path = new ArrayList<>();
        List<Long> begins = new ArrayList<>();
        for (int i = 0; i < history.size(); i++) {
            int child = i + 1 < history.size() ? history.get(i + 1).parentTimeline() : latest;
            if (history.get(i).parentTimeline() >= m.timeline()) {
                path.add(new int[] {child});
                begins.add(Long.divideUnsigned(history.get(i).switchLsn(), segmentSize));
            }
        }
        long lastNeeded = lastSegmentNeeded(target, archive, m, latest, path, begins, segmentSize, stop);
        List<RestorePlan.WalNeed> needs = new ArrayList<>();
        String firstMissing = null;
        for (long segno = stop.segmentNumber() + 1; segno <= lastNeeded; segno++) {
            String name = new WalSegmentName(timelineOf(segno, m.timeline(), path, begins), segno, segmentSize).fileName();
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

    private static long lastSegmentNeeded(RecoveryTarget target, WalArchive archive, BackupManifest m, int latest,
                                          List<int[]> path, List<Long> begins, long segmentSize, WalSegmentName stop) {
        long newest = stop.segmentNumber();
        List<Integer> timelines = new ArrayList<>(List.of(m.timeline()));
        path.forEach(p -> timelines.add(p[0]));
        for (int tli : timelines) {
            for (WalSegmentName s : archive.segments(tli, segmentSize)) {
                if (timelineOf(s.segmentNumber(), m.timeline(), path, begins) == tli) {
                    newest = Math.max(newest, s.segmentNumber());
                }
            }
        }
        if (target instanceof RecoveryTarget.Lsn l) {
            return Math.min(newest, Long.divideUnsigned(l.lsn(), segmentSize));
        }
        if (target instanceof RecoveryTarget.Time t) {
            // The first segment archived after the target time holds the target or later: no need to look further.
            for (long segno = stop.segmentNumber() + 1; segno <= newest; segno++) {
                String name = new WalSegmentName(timelineOf(segno, m.timeline(), path, begins), segno, segmentSize).fileName();
                Optional<WalArchive.Entry> e = archive.find(name);
                if (e.isPresent() && !e.get().archivedAt().isBefore(t.time().toInstant())) {
                    return segno;
                }
            }
        }
        return newest;
    }

    private static int timelineOf(long segno, int backupTimeline, List<int[]> path, List<Long> begins) {
        int tli = backupTimeline;
        for (int i = 0; i < path.size(); i++) {
            if (segno >= begins.get(i)) {
                tli = path.get(i)[0];
            }
        }
        return tli;
    }

    /** Installs restore_wal.sh, or replaces one from an older version (prefetch needs the current one). */
    private void ensureRestoreScript(Repository repository) {
        ArchiveScripts scripts = new ArchiveScripts(repository, context.config().compression(), context.config().remote());
        byte[] wanted = scripts.restoreScript().getBytes(StandardCharsets.UTF_8);
        try {
            if (Files.isExecutable(repository.restoreScript())
                    && java.util.Arrays.equals(Files.readAllBytes(repository.restoreScript()), wanted)) {
                return;
            }
            Files.createDirectories(repository.scriptsDir());
            AtomicFiles.write(repository.restoreScript(), wanted,
                    PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot install " + repository.restoreScript() + ": " + e.getMessage(), e);
        }
    }

    private static void prepareTarget(RestorePlan plan) {
        Path dir = plan.targetDir();
        try {
            if (plan.moveAsideTo().isPresent()) {
                var owner = Files.getOwner(dir);
                Files.move(dir, plan.moveAsideTo().get(), StandardCopyOption.ATOMIC_MOVE);
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                Files.setOwner(dir, owner);
            } else {
                Files.createDirectories(dir.getParent());
                if (!Files.exists(dir)) {
                    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                }
            }
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot prepare " + dir + ": " + e.getMessage()
                    + plan.moveAsideTo().filter(Files::exists).map(p -> "; the previous PGDATA is safe in " + p).orElse(""), e);
        }
    }

    /** Both tars at once, each decompressed on a thread of its own ahead of the one writing files. */
    /**
     * base.tar on one thread; pg_wal.tar, then the WAL prefetch, on another: the WAL tar is small,
     * so the prefetch runs while base.tar is still being extracted.
     */
    private static long extract(Repository repository, RestorePlan plan, BackgroundFsync fsync) throws IOException {
        BackupManifest m = plan.backup().manifest();
        Path dir = plan.targetDir();
        Files.createDirectories(dir.resolve("pg_wal"));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Long> base = pool.submit(() -> extractOne(plan.backup().directory(), fileOf(m, "base.tar"), dir, fsync));
            Future<Long> wal = pool.submit(() -> extractOne(plan.backup().directory(), fileOf(m, "pg_wal.tar"), dir.resolve("pg_wal"), fsync)
                    + prefetchWal(repository, plan, fsync));
            return base.get() + wal.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Decompresses the archived segments replay will need into {@link #PREFETCH_DIR}, so PostgreSQL
     * finds each one ready instead of waiting for one decompression (and process start) per segment.
     * Each file is written under a temporary name and renamed, so the script only sees whole files.
     */
    private static long prefetchWal(Repository repository, RestorePlan plan, BackgroundFsync fsync) throws IOException {
        List<String> segments = plan.wal().stream().filter(RestorePlan.WalNeed::present)
                .map(RestorePlan.WalNeed::segment).limit(PREFETCH_LIMIT).toList();
        if (segments.isEmpty()) {
            return 0;
        }
        Path dir = Files.createDirectories(plan.targetDir().resolve(PREFETCH_DIR));
        Map<String, Path> archived = new java.util.HashMap<>();
        try (var files = Files.list(repository.walArchiveDir())) {
            files.forEach(f -> {
                String name = f.getFileName().toString();
                Compression c = Compression.ofSuffix(name).orElse(Compression.NONE);
                archived.putIfAbsent(name.substring(0, name.length() - c.suffix().length()), f);
            });
        }
        // Trusted by restore_wal.sh only within this boot (no fsync needed: only an OS crash loses
        // page-cache data); where there is no boot id, each file is flushed instead.
        Optional<String> boot = bootId();
        long bytes = 0;
        for (String segment : segments) {
            Path source = archived.get(segment);
            if (source != null) {
                bytes += decompressTo(source, dir, segment);
                if (boot.isEmpty()) {
                    fsync.submit(dir.resolve(segment));
                }
            }
        }
        AtomicFiles.write(dir.resolve(".trusted"), (boot.map(b -> "boot " + b).orElse("fsynced") + "\n")
                .getBytes(StandardCharsets.UTF_8));
        return bytes;
    }

    private static Optional<String> bootId() {
        try {
            String id = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
            return id.isEmpty() ? Optional.empty() : Optional.of(id);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static long decompressTo(Path source, Path dir, String segment) throws IOException {
        Compression c = Compression.ofSuffix(source.getFileName().toString()).orElse(Compression.NONE);
        Path tmp = dir.resolve(segment + ".tmp");
        long n;
        try (InputStream in = c.decompress(Files.newInputStream(source))) {
            n = Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw new IOException("cannot decompress " + source + ": " + e.getMessage(), e);
        }
        Files.move(tmp, dir.resolve(segment), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return n;
    }

    private static long extractOne(Path backupDir, String fileName, Path into, BackgroundFsync fsync) throws IOException {
        Compression compression = Compression.ofSuffix(fileName).orElse(Compression.NONE);
        try (InputStream raw = Files.newInputStream(backupDir.resolve(fileName));
             InputStream ahead = new ReadAheadInputStream(compression.decompress(raw), 1 << 20, 4, fileName)) {
            return new SafeTarExtractor(into, fsync::submit).extract(ahead, fileName);
        }
    }

    /** The stored name of a tar, whatever its compression: base.tar.gz, base.tar.zst, base.tar. */
    private static String fileOf(BackupManifest m, String stem) {
        return m.files().stream().map(BackupManifest.BackupFile::name)
                .filter(n -> n.equals(stem) || (n.startsWith(stem + ".") && Compression.ofSuffix(n).isPresent()))
                .findFirst().orElseThrow(() -> new PgBackupException(ErrorCode.VERIFICATION_FAILED,
                        "backup " + m.id() + " has no " + stem + " in its manifest"));
    }

    private static void writeRecoverySettings(Path dir, Map<String, String> settings) throws IOException {
        Path auto = dir.resolve("postgresql.auto.conf");
        List<String> kept = Files.exists(auto) ? Files.readAllLines(auto, StandardCharsets.UTF_8) : List.of();
        StringBuilder text = new StringBuilder();
        for (String line : kept) {
            String key = line.split("=", 2)[0].trim();
            if (!RECOVERY_SETTINGS.contains(key)) {
                text.append(line).append('\n');
            }
        }
        text.append("# recovery settings written by pgbackup restore\n");
        settings.forEach((k, v) -> text.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
        AtomicFiles.write(auto, text.toString().getBytes(StandardCharsets.UTF_8), PosixFilePermissions.fromString("rw-------"));
    }

    private static List<String> nextSteps(RestorePlan plan) {
        Path dir = plan.targetDir();
        List<String> steps = new ArrayList<>();
        steps.add("start PostgreSQL on it: pg_ctl -D " + dir + " -l " + dir.resolve("recovery.log") + " start"
                + " (or systemctl start postgresql when it is the service's PGDATA)");
        steps.add("watch recovery: tail -f " + dir.resolve("recovery.log") + " (or " + dir.resolve("log") + "/);"
                + " recovery.signal disappears when it completes");
        if (plan.action() == TargetAction.PAUSE && !(plan.target() instanceof RecoveryTarget.EndOfWal)) {
            steps.add("at the target, recovery pauses: check the data, then SELECT pg_wal_replay_resume() to promote");
        } else {
            steps.add("then check: psql -c 'SELECT pg_is_in_recovery()' answers f once promoted");
        }
        plan.moveAsideTo().ifPresent(p -> steps.add("the previous PGDATA is in " + p + "; remove it once you are satisfied"));
        return steps;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
