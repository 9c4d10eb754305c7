package io.pgbackup.core.internal.restore;

import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.restore.RecoveryTarget;

import io.pgbackup.core.restore.RecoveryTarget.TargetAction;

import io.pgbackup.core.restore.RestorePlanner.RestoreResult;

import io.pgbackup.core.restore.RestorePlan;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.archive.ArchiveScripts;
import io.pgbackup.core.internal.archive.WalArchive;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.storage.AtomicFiles;
import io.pgbackup.core.internal.storage.BackgroundFsync;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredName;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.Map;
import java.util.Optional;

/**
 * Carries out a {@link RestorePlan}: moves PGDATA aside if planned, extracts both tars (entries
 * escaping the target refused), prefetches the WAL replay needs, fsyncs it all, writes the recovery
 * settings, and creates {@code recovery.signal} last, so an interrupted restore never looks complete.
 */
final class RestoreExecutor {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RestoreExecutor.class);
    /** Settings a previous recovery may have left in postgresql.auto.conf; ours replace them. */
    private static final List<String> RECOVERY_SETTINGS = List.of("restore_command", "recovery_target",
            "recovery_target_time", "recovery_target_lsn", "recovery_target_xid", "recovery_target_name",
            "recovery_target_action", "recovery_target_timeline", "recovery_target_inclusive", "recovery_end_command");
    /**
     * Where restore puts decompressed WAL for restore_wal.sh to take: inside pg_wal/, where WAL
     * belongs and which pg_verifybackup does not compare with the backup's manifest.
     */
    static final String PREFETCH_DIR = "pg_wal/pgbackup_prefetch";
    /** At most this many segments (2 GiB at 16 MiB) are prefetched; the rest come through the script. */
    static final int PREFETCH_LIMIT = 128;

    private final PgBackupContext context;
    private final TargetDirectory targets;
    /** The archive listing the plan was made from, when known: the WAL archive is listed once per restore. */
    private final WalArchive planned;
    private final io.pgbackup.core.progress.ProgressListener progress;
    private final RestoreChain chain;
    /** CRC32C of files a delta restore checksummed and left as they are, for the synthesized backup_manifest. */
    private final Map<String, String> verifiedChecksums = new java.util.concurrent.ConcurrentHashMap<>();

    RestoreExecutor(PgBackupContext context, TargetDirectory targets) {
        this(context, targets, null);
    }

    RestoreExecutor(PgBackupContext context, TargetDirectory targets, WalArchive planned) {
        this(context, targets, planned, null);
    }

    RestoreExecutor(PgBackupContext context, TargetDirectory targets, WalArchive planned,
                    io.pgbackup.core.progress.ProgressListener progress) {
        this(context, targets, planned, progress, null);
    }

    /** {@code chain}: the backups to reassemble the plan's from, or a delta restore; null for a plain full restore. */
    RestoreExecutor(PgBackupContext context, TargetDirectory targets, WalArchive planned,
                    io.pgbackup.core.progress.ProgressListener progress, RestoreChain chain) {
        this.chain = chain;
        this.context = context;
        this.targets = targets;
        this.planned = planned;
        this.progress = progress;
    }

    /**
     * How many segments restore decompresses ahead of replay: from a bucket, every one the plan
     * names (restore_wal.sh would otherwise start a JVM per segment to fetch it); else
     * {@link #PREFETCH_LIMIT}.
     */
    static int prefetchLimit(Repository repository) {
        return repository.rawStorage() instanceof io.pgbackup.core.internal.storage.LocalStorage ? PREFETCH_LIMIT : Integer.MAX_VALUE;
    }

    RestoreResult execute(RestorePlan plan) {
        log.debug("restoring {} into {}", plan.backup().id(), plan.targetDir());
        Repository repository = context.repository();
        Instant start = Instant.now();
        try (Storage.Lease ignored = repository.lease("restore", context.clock())) {
            // The world may have moved since the plan was made (a server started): check again.
            if (chain != null && chain.delta()) {
                targets.checkDelta(plan.targetDir(), plan.backup().manifest().systemIdentifier());
            } else {
                targets.check(plan.targetDir(), plan.moveAsideTo().isPresent());
            }
            ensureRestoreScript(repository);
            prepareTarget(plan);
            Tablespaces.prepare(plan);
            String marker = RestoreMarkers.beginOrFail(repository, plan, context.clock());
            long bytes;
            try {
                try (BackgroundFsync fsync = new BackgroundFsync()) {
                    bytes = extract(repository, plan, fsync);
                    log.debug("extracted {} bytes and prefetched WAL", bytes);
                    Tablespaces.link(plan.targetDir(), plan.tablespaces());
                    // Durable before recovery.signal; PostgreSQL's start-up sync then has nothing left to flush.
                    fsync.finish();
                    log.debug("synced");
                }
                dropStandbySignal(plan.targetDir());
                if (chain != null && chain.incremental()) {
                    IncrementalLabel.strip(plan.targetDir());
                    ChainRoots.writeManifest(plan, verifiedChecksums);
                }
                writeRecoverySettings(plan.targetDir(), plan.recoverySettings());
                // Cleanup keeps what replay reads until recovery ends (or the marker expires).
                RestoreMarkers.extracted(repository, marker, plan.targetDir(), context.clock());
                AtomicFiles.write(plan.targetDir().resolve("recovery.signal"), new byte[0]);
            } catch (IOException | PgBackupException e) {
                RestoreMarkers.endQuietly(repository, marker);
                String why = e instanceof PgBackupException p ? p.getMessage() : e.getMessage();
                throw new PgBackupException(e instanceof SafeTarExtractor.UnsafeEntryException ? ErrorCode.VERIFICATION_FAILED
                        : ErrorCode.IO_FAILED, "restore failed: " + why + ". " + plan.targetDir()
                        + " holds a partial restore without recovery.signal: remove it"
                        + (plan.tablespaces().isEmpty() ? "" : " and the tablespace directories " + plan.tablespaces().stream()
                        .map(t -> t.location().toString()).collect(java.util.stream.Collectors.joining(", ")))
                        + " and run restore again"
                        + plan.moveAsideTo().map(p -> "; the previous PGDATA is safe in " + p).orElse(""), e);
            }
            Duration took = Duration.between(start, Instant.now());
            return new RestoreResult(plan, took, bytes, nextSteps(plan));
        }
    }

    /**
     * A standby's backup carries its {@code standby.signal}, which would win over recovery.signal:
     * the copy would follow {@code primary_conninfo} as a standby and never end recovery at the
     * target. Without it, recovery.signal alone makes a point-in-time recovery that ignores
     * primary_conninfo.
     */
    private static void dropStandbySignal(java.nio.file.Path targetDir) throws IOException {
        if (java.nio.file.Files.deleteIfExists(targetDir.resolve("standby.signal"))) {
            log.info("removed standby.signal of the standby the backup was taken from: the copy recovers, then promotes");
        }
    }

    /** Installs restore_wal.sh, or replaces one from an older version (prefetch needs the current one). */
    private void ensureRestoreScript(Repository repository) {
        ArchiveScripts scripts = ArchiveScripts.of(context, repository);
        try {
            ArchiveScripts.install(repository.restoreScript(), scripts.restoreScript());
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot install " + repository.restoreScript() + ": " + e.getMessage(), e);
        }
    }

    private static void prepareTarget(RestorePlan plan) {
        Path dir = plan.targetDir();
        try {
            TargetDirectory.prepare(dir, plan.moveAsideTo());
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot prepare " + dir + ": " + e.getMessage()
                    + plan.moveAsideTo().filter(Files::exists).map(p -> "; the previous PGDATA is safe in " + p).orElse(""), e);
        }
    }

    /**
     * base.tar on one thread; pg_wal.tar, then the WAL prefetch, on another: the WAL tar is small,
     * so the prefetch runs while base.tar is still being extracted; each tablespace's tar into its
     * own directory, on at most two more threads. Each is decompressed on a thread of its own ahead
     * of the one writing files.
     */
    private long extract(Repository repository, RestorePlan plan, BackgroundFsync fsync) throws IOException {
        BackupManifest m = plan.backup().manifest();
        Path dir = plan.targetDir();
        Files.createDirectories(dir.resolve("pg_wal"));
        // Tar bytes extracted of the database size the backup recorded (an estimate: the tars add headers).
        io.pgbackup.core.internal.storage.ProgressCounter counter =
                new io.pgbackup.core.internal.storage.ProgressCounter("restore", m.databaseSizeBytes(), progress);
        List<Callable<Long>> tasks = new ArrayList<>();
        boolean reassemble = chain != null && (chain.incremental() || chain.delta());
        if (reassemble) {
            ChainRoots.add(tasks, repository, plan, chain, fsync, counter, verifiedChecksums);
        } else {
            tasks.add(() -> extractOne(repository, plan.backup(), fileOf(m, "base.tar"), dir, fsync, counter));
        }
        tasks.add(() -> extractOne(repository, plan.backup(), fileOf(m, "pg_wal.tar"), dir.resolve("pg_wal"), fsync, counter)
                + prefetchWal(repository, plan, fsync));
        for (RestorePlan.TablespaceTarget t : reassemble ? List.<RestorePlan.TablespaceTarget>of() : plan.tablespaces()) {
            tasks.add(() -> extractOne(repository, plan.backup(), t.archive(), t.location(), fsync, counter));
        }
        return Pools.runAll("pgbackup-extract", 2 + Math.min(2, plan.tablespaces().size()), tasks).stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Decompresses the archived segments replay will need into {@link #PREFETCH_DIR}, so PostgreSQL
     * finds each one ready instead of waiting for one decompression (and process start) per segment.
     * Each file is written under a temporary name and renamed, so the script only sees whole files.
     */
    private long prefetchWal(Repository repository, RestorePlan plan, BackgroundFsync fsync) throws IOException {
        List<String> segments = plan.wal().stream().filter(RestorePlan.WalNeed::present)
                .map(RestorePlan.WalNeed::segment).limit(prefetchLimit(repository)).toList();
        if (segments.isEmpty()) {
            return 0;
        }
        Path dir = Files.createDirectories(plan.targetDir().resolve(PREFETCH_DIR));
        if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            // base.tar's links stay inside the restore, but WAL is never written through one
            throw new IOException(dir + " is a link in the backup's base.tar: cannot prefetch WAL into it");
        }
        WalArchive archive = planned != null ? planned : WalArchive.sharded(repository);
        // Trusted by restore_wal.sh only within this boot (no fsync needed: only an OS crash loses
        // page-cache data); where there is no boot id, each file is flushed instead.
        Optional<String> boot = io.pgbackup.core.internal.archive.WalPrefetcher.bootId();
        // From a bucket, a few downloads side by side hide each request's latency.
        int parallel = prefetchLimit(repository) == PREFETCH_LIMIT ? 1 : 4;
        List<Callable<Long>> copies = new ArrayList<>();
        for (String segment : segments) {
            Optional<WalArchive.Entry> entry = archive.find(segment);
            if (entry.isPresent()) {
                copies.add(() -> {
                    long n = decompressTo(archive, entry.get(), dir);
                    if (boot.isEmpty()) {
                        fsync.submit(dir.resolve(segment));
                    }
                    return n;
                });
            }
        }
        long bytes = Pools.runAll("pgbackup-prefetch", parallel, copies).stream().mapToLong(Long::longValue).sum();
        AtomicFiles.write(dir.resolve(".trusted"), (boot.map(b -> "boot " + b).orElse("fsynced") + "\n")
                .getBytes(StandardCharsets.UTF_8));
        long planned = plan.wal().stream().filter(RestorePlan.WalNeed::present).count();
        if (segments.size() == planned) {
            // Everything the archive held is here: restore_wal.sh need not start a fetch-ahead for its hits.
            AtomicFiles.write(dir.resolve(io.pgbackup.core.internal.archive.WalPrefetcher.END_MARKER),
                    "prefetched by restore to the archive's end\n".getBytes(StandardCharsets.UTF_8));
        }
        return bytes;
    }

    private static long decompressTo(WalArchive archive, WalArchive.Entry entry, Path dir) throws IOException {
        Path tmp = dir.resolve(entry.name() + ".tmp");
        long n;
        try (InputStream in = archive.open(entry)) {
            n = Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw new IOException("cannot decompress " + entry.key() + ": " + e.getMessage(), e);
        }
        Files.move(tmp, dir.resolve(entry.name()), StandardCopyOption.ATOMIC_MOVE);
        return n;
    }

    /**
     * Whether the SHA-256 of each backup file is checked while it is extracted rather than by a read
     * of its own in the plan: from a bucket, where reading twice is downloading twice. A mismatch
     * then fails the restore before recovery.signal is written.
     */
    static boolean checksWhileExtracting(Repository repository) {
        return !(repository.rawStorage() instanceof io.pgbackup.core.internal.storage.LocalStorage);
    }

    private static long extractOne(Repository repository, BackupInfo backup, String fileName, Path into, BackgroundFsync fsync,
                                   io.pgbackup.core.internal.storage.ProgressCounter counter) throws IOException {
        return BackupTarExtraction.extract(repository, backup, fileName, into, fsync::submit, counter, null, null);
    }

    /** The stored name of a tar, whatever its compression: base.tar.gz, base.tar.zst, base.tar. */
    static String fileOf(BackupManifest m, String stem) {
        return m.files().stream().map(BackupManifest.BackupFile::name)
                .filter(n -> StoredName.parse(n).stem().equals(stem))
                .findFirst().orElseThrow(() -> new PgBackupException(ErrorCode.VERIFICATION_FAILED,
                        "backup " + m.id() + " has no " + stem + " in its manifest"));
    }

    /**
     * Appends the plan's settings to postgresql.auto.conf (read last, so they win), dropping any
     * earlier line for the same settings (a previous recovery's, the backup's archive_mode). Each
     * value is a literal the configuration parser reads back exactly: backslashes too.
     */
    static void writeRecoverySettings(Path dir, Map<String, String> settings) throws IOException {
        Path auto = dir.resolve("postgresql.auto.conf");
        List<String> kept = Files.exists(auto) ? Files.readAllLines(auto, StandardCharsets.UTF_8) : List.of();
        StringBuilder text = new StringBuilder();
        for (String line : kept) {
            String key = line.split("=", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
            if (!RECOVERY_SETTINGS.contains(key) && !settings.containsKey(key)) {
                text.append(line).append('\n');
            }
        }
        text.append("# recovery settings written by pgbackup restore\n");
        text.append(io.pgbackup.core.internal.postgres.PgConfText.lines(settings));
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
        steps.add("archiving in the copy: " + plan.archivingNote());
        plan.moveAsideTo().ifPresent(p -> steps.add("the previous PGDATA is in " + p + "; remove it once you are satisfied"));
        plan.tablespaces().forEach(t -> t.moveAsideTo().ifPresent(p -> steps.add("the previous content of tablespace directory "
                + t.location() + " is in " + p + "; remove it once you are satisfied")));
        return steps;
    }

}
