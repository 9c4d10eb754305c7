package io.pgbackup.core.backup;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.PgBackupVersion;
import io.pgbackup.core.archive.WalSegmentName;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.postgres.ServerInfo;
import io.pgbackup.core.process.ProcessResult;
import io.pgbackup.core.process.ProcessSpec;
import io.pgbackup.core.process.RunningProcess;
import io.pgbackup.core.storage.AtomicFiles;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.FollowingFileInputStream;
import io.pgbackup.core.storage.Repository;
import io.pgbackup.core.storage.RepositoryLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Backups with {@code pg_basebackup -Ft -X stream} into a hidden staging directory inside
 * {@code base/}; the tars are compressed, checksummed and described by the manifest, and only then
 * is the directory renamed to its id. Anything that fails before the rename removes the staging
 * directory, so {@code base/} shows complete backups only.
 */
public final class DefaultBackupManager implements BackupManager {
    private static final Logger log = LoggerFactory.getLogger(DefaultBackupManager.class);
    private static final DateTimeFormatter ID_FORMAT = DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss");
    private static final Pattern START_POINT = Pattern.compile("write-ahead log start point: (\\S+) on timeline (\\d+)");
    private static final Pattern END_POINT = Pattern.compile("write-ahead log end point: (\\S+)");
    static final String BASE_TAR = "base.tar";
    static final String WAL_TAR = "pg_wal.tar";
    static final String PG_MANIFEST = "backup_manifest";
    private static final int COPY_BUFFER = 256 * 1024;
    private static final String RAW_DIR = "pg_basebackup";

    private final PgBackupContext context;
    private final ManifestCodec codec = new ManifestCodec();

    public DefaultBackupManager(PgBackupContext context) {
        this.context = context;
    }

    @Override
    public BackupInfo backup(BackupOptions options) {
        Repository repository = context.repository();
        repository.requireInitialized();
        PgBackupConfig config = context.config();
        Compression compression = options.compression().orElse(config.compression());
        try (RepositoryLock ignored = RepositoryLock.acquire(repository, "backup", context.clock())) {
            removeStaleStaging(repository);
            // The server's identity is read over JDBC while pg_basebackup already runs (it costs a JVM
            // a few hundred ms); a foreign cluster stops pg_basebackup and the staging directory goes.
            CompletableFuture<ServerFacts> server = CompletableFuture.supplyAsync(() -> {
                ServerFacts facts = readServer();
                refuseForeignCluster(facts.info().systemIdentifier());
                return facts;
            }, task -> {
                Thread thread = new Thread(task, "pgbackup-server-check");
                thread.setDaemon(true);
                thread.start();
            });
            OffsetDateTime start = OffsetDateTime.now(context.clock());
            String id = freeId(repository, start.toLocalDateTime());
            Path staging = createStaging(repository, id);
            AtomicBoolean finished = new AtomicBoolean();
            Thread cleanup = new Thread(() -> {
                if (!finished.get()) {
                    deleteQuietly(staging);
                }
            }, "pgbackup-staging-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
            try {
                BackupInfo info = runBackup(repository, id, staging, start, server, compression, options);
                finished.set(true);
                return info;
            } catch (RuntimeException e) {
                deleteQuietly(staging);
                throw e;
            } finally {
                finished.set(true);
                removeHook(cleanup);
            }
        }
    }

    private BackupInfo runBackup(Repository repository, String id, Path staging, OffsetDateTime start,
                                 CompletableFuture<ServerFacts> serverCheck, Compression compression, BackupOptions options) {
        PgBackupConfig config = context.config();
        // pg_basebackup wants an empty directory of its own; the stored files are written beside it.
        Path raw = staging.resolve(RAW_DIR);
        List<String> command = new ArrayList<>(List.of(
                context.binaries().tool("pg_basebackup").toString(),
                "--host=" + config.host(), "--port=" + config.port(), "--username=" + config.requireUser(),
                "--pgdata=" + raw, "--format=tar", "--wal-method=stream",
                "--checkpoint=" + (options.fastCheckpoint() ? "fast" : "spread"),
                "--label=pgbackup " + id, "--no-password", "--verbose",
                // The raw tars are compressed and deleted, and what is kept is synced by us before the rename.
                "--no-sync"));
        if (options.reportsProgress()) {
            command.add("--progress");
        }
        Map<String, String> env = new LinkedHashMap<>(config.childEnvironment());
        env.put("PGAPPNAME", "pgbackup");
        env.put("PGCONNECT_TIMEOUT", "10");
        env.put("PGDATABASE", config.database().orElse("postgres"));
        // PostgreSQL 15+ (built with zstd) compresses on the server with worker threads: nothing to recompress here.
        boolean serverZstd = compression == Compression.ZSTD && join(serverCheck).info().versionNum() >= 150000
                && join(serverCheck).zstd();
        if (serverZstd) {
            command.add("--compress=server-zstd:level=" + Compression.ZSTD.defaultLevel()
                    + ",workers=" + Compression.defaultThreads());
        }
        ProcessSpec spec = ProcessSpec.of(command).withEnvironment(env).withStderrListener(options.progress());
        RunningProcess running;
        try {
            log.debug("running {}", spec);
            running = context.processRunner().start(spec);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: " + e.getMessage(), e);
        }
        serverCheck.whenComplete((facts, failure) -> {
            if (failure != null) {
                running.destroy();
            }
        });
        BackupManifest.BackupFile base = null;
        FollowedTar followed = null;
        try {
            if (!serverZstd) {
                // Compress (or, uncompressed, hash) base.tar while pg_basebackup is still writing it:
                // the two overlap instead of adding up.
                followed = compressWhileWritten(raw, BASE_TAR, compression, running::awaitEnd, staging);
            }
        } catch (IOException | RuntimeException e) {
            running.destroy();
            awaitQuietly(running);
            throw new PgBackupException(ErrorCode.IO_FAILED, "backup failed while compressing " + BASE_TAR + ": "
                    + (e instanceof IOException io ? describeIo(io) : e.getMessage())
                    + "; nothing was kept. Free space or fix permissions, then run backup again", e);
        }
        ProcessResult result = await(running);
        log.debug("pg_basebackup ended with exit code {}", result.exitCode());
        // A refusal or connection failure found by the check explains more than pg_basebackup's last line.
        ServerFacts server = join(serverCheck);
        if (!result.succeeded()) {
            if (result.stderr().contains("incompatible server version")) {
                clientTooOld(server.info());
            }
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: "
                    + explain(reason(result.stderr())));
        }
        refuseTablespaces(raw);
        try {
            WalRange range = walRange(raw, result.stderr());
            if (followed != null) {
                base = followed.finish();
            } else {
                String stored = BASE_TAR + (serverZstd ? Compression.ZSTD.suffix() : "");
                base = describe(Files.move(requireFile(raw, stored), staging.resolve(stored)));
            }
            List<BackupManifest.BackupFile> files = new ArrayList<>();
            files.add(base);
            log.debug("{} stored as {}", BASE_TAR, base.name());
            files.add(compress(raw, WAL_TAR, compression, staging));
            log.debug("{} stored", WAL_TAR);
            if (Files.exists(raw.resolve(PG_MANIFEST))) {
                files.add(describe(Files.move(raw.resolve(PG_MANIFEST), staging.resolve(PG_MANIFEST))));
            } else {
                log.info("PostgreSQL {} writes no {} (it came in 13): verify checks the files inside the tars by the"
                        + " compressed streams' checksums only", server.info().majorVersion(), PG_MANIFEST);
            }
            AtomicFiles.deleteTree(raw);
            OffsetDateTime end = OffsetDateTime.now(context.clock());
            long segmentSize = server.info().walSegmentSize();
            BackupManifest manifest = new BackupManifest(BackupManifest.FORMAT_VERSION, id, "pgbackup " + id,
                    start, end, Duration.between(start, end).toMillis(), PgBackupVersion.get(),
                    server.info().version(), server.info().versionNum(), server.info().systemIdentifier(),
                    range.timeline(), WalSegmentName.formatLsn(range.start()), WalSegmentName.formatLsn(range.stop()),
                    WalSegmentName.ofLsn(range.timeline(), range.start(), segmentSize).fileName(),
                    WalSegmentName.ofLsn(range.timeline(), range.stop(), segmentSize).fileName(),
                    segmentSize, compression.cliName(), server.databaseSize(),
                    options.fastCheckpoint() ? "fast" : "spread", files);
            AtomicFiles.write(staging.resolve(Repository.MANIFEST_FILE), codec.toJson(manifest), OWNER_ONLY);
            AtomicFiles.fsyncTree(staging);
            log.debug("manifest written, files synced");
            Path finalDir = repository.backupPath(id);
            AtomicFiles.moveDurably(staging, finalDir);
            log.info("backup {} complete: {} bytes stored", id, manifest.storedBytes());
            return new BackupInfo(id, finalDir, manifest);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "backup failed while writing " + staging.getParent()
                    + ": " + describeIo(e) + "; nothing was kept. Free space or fix permissions, then run backup again", e);
        }
    }

    @Override
    public List<BackupInfo> list() {
        BackupScan scan = scan();
        scan.unreadable().forEach(u -> log.warn("skipping backup {}: {} (run 'pgbackup verify {}')", u.id(), u.reason(), u.id()));
        return scan.backups();
    }

    @Override
    public BackupScan scan() {
        Repository repository = context.repository();
        List<BackupInfo> backups = new ArrayList<>();
        List<UnreadableBackup> unreadable = new ArrayList<>();
        try {
            for (String id : repository.backupIds()) {
                try {
                    BackupManifest manifest = codec.read(repository.manifestPath(id));
                    if (!id.equals(manifest.id())) {
                        unreadable.add(new UnreadableBackup(id, repository.backupPath(id), "its manifest describes backup "
                                + manifest.id() + " (a directory renamed or copied over?)"));
                        continue;
                    }
                    backups.add(new BackupInfo(id, repository.backupPath(id), manifest));
                } catch (PgBackupException e) {
                    unreadable.add(new UnreadableBackup(id, repository.backupPath(id), e.getMessage()));
                }
            }
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot read " + repository.baseDir() + ": " + describeIo(e), e);
        }
        return new BackupScan(backups, unreadable);
    }

    @Override
    public BackupInfo get(String id) {
        List<BackupInfo> all = list();
        return all.stream().filter(b -> b.id().equals(id)).findFirst().orElseThrow(() ->
                new PgBackupException(ErrorCode.INVALID_ARGUMENT, "no backup '" + id + "' in "
                        + context.repository().baseDir() + (all.isEmpty() ? ": there are no backups yet (run 'pgbackup backup')"
                        : ": existing backups are " + all.stream().map(BackupInfo::id).collect(Collectors.joining(", ")))));
    }

    private record ServerFacts(ServerInfo info, long databaseSize, boolean zstd) {
    }

    private record WalRange(int timeline, long start, long stop) {
    }

    private ServerFacts readServer() {
        try (Connection connection = context.connector().open(); Statement st = connection.createStatement()) {
            ServerInfo info = ServerInfo.read(connection);
            // A server built without zstd refuses server-zstd; wal_compression lists zstd only where it was built in.
            try (ResultSet rs = st.executeQuery("SELECT sum(pg_database_size(oid))::bigint FROM pg_database")) {
                rs.next();
                long size = rs.getLong(1);
                try (ResultSet z = st.executeQuery("SELECT 'zstd' = ANY(enumvals) FROM pg_settings WHERE name = 'wal_compression'")) {
                    return new ServerFacts(info, size, z.next() && z.getBoolean(1));
                }
            }
        } catch (SQLException e) {
            throw new PgBackupException(ErrorCode.CONNECTION_FAILED, "cannot read the server's identity: "
                    + e.getMessage(), e);
        }
    }

    /** One repository holds one cluster's backups: WAL and backups of two clusters must never mix. */
    private void refuseForeignCluster(String systemIdentifier) {
        for (BackupInfo backup : list()) {
            if (!backup.manifest().systemIdentifier().equals(systemIdentifier)) {
                throw new PgBackupException(ErrorCode.REPOSITORY_CONFLICT, context.repository().root()
                        + " holds backups of another cluster (system identifier "
                        + backup.manifest().systemIdentifier() + ", this server is " + systemIdentifier
                        + "): point PG_BACKUP_DIR at a repository of this cluster or an empty directory");
            }
        }
    }

    /** Ids are the start time to the second; a second backup within the same second takes the next free one. */
    private static String freeId(Repository repository, LocalDateTime start) {
        LocalDateTime candidate = start;
        while (Files.exists(repository.baseDir().resolve(ID_FORMAT.format(candidate)))) {
            candidate = candidate.plusSeconds(1);
        }
        return ID_FORMAT.format(candidate);
    }

    private static Path createStaging(Repository repository, String id) {
        try {
            return repository.createStagingDir(id);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot create a staging directory in "
                    + repository.baseDir() + ": " + describeIo(e), e);
        }
    }

    /** With the lock held no backup is running, so any staging directory is a crashed run's leftover. */
    private static void removeStaleStaging(Repository repository) {
        try {
            for (Path stale : repository.stagingDirs()) {
                log.warn("removing {} left by an interrupted backup", stale);
                AtomicFiles.deleteTree(stale);
            }
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot clean up interrupted backups in "
                    + repository.baseDir() + ": " + describeIo(e), e);
        }
    }

    /** The WAL range from PostgreSQL's own backup_manifest (13+), else from pg_basebackup's verbose output. */
    private WalRange walRange(Path raw, String stderr) throws IOException {
        Path pgManifest = raw.resolve(PG_MANIFEST);
        if (Files.exists(pgManifest)) {
            JsonNode ranges = codec.mapper().readTree(pgManifest.toFile()).path("WAL-Ranges");
            if (ranges.isArray() && ranges.size() > 0) {
                JsonNode first = ranges.get(0);
                JsonNode last = ranges.get(ranges.size() - 1);
                return new WalRange(last.path("Timeline").asInt(),
                        WalSegmentName.parseLsn(first.path("Start-LSN").asText()),
                        WalSegmentName.parseLsn(last.path("End-LSN").asText()));
            }
        }
        Matcher start = START_POINT.matcher(stderr);
        Matcher end = END_POINT.matcher(stderr);
        if (!start.find() || !end.find()) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED,
                    "backup failed: pg_basebackup reported no WAL start and end points; nothing was kept");
        }
        return new WalRange(Integer.parseInt(start.group(2)), WalSegmentName.parseLsn(start.group(1)),
                WalSegmentName.parseLsn(end.group(1)));
    }

    /** Compresses {@code from/name} to {@code to/name + suffix} (or moves it there, uncompressed), hashing what is stored. */
    private static BackupManifest.BackupFile compress(Path from, String name, Compression compression, Path to) throws IOException {
        Path plain = from.resolve(name);
        if (!Files.exists(plain)) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: pg_basebackup wrote no "
                    + name + "; nothing was kept");
        }
        // A file that is already complete is followed with its writer already finished.
        return compressWhileWritten(from, name, compression, wait -> true, to).finish();
    }

    /**
     * A tar compressed as it was written; {@link #finish()} checks it was read whole and drops the
     * plain tar, or, uncompressed, moves it to {@code keepAs}.
     */
    private record FollowedTar(Path plain, BackupManifest.BackupFile stored, long bytesRead, Path keepAs) {
        BackupManifest.BackupFile finish() throws IOException {
            long size = Files.exists(plain) ? Files.size(plain) : -1;
            if (size != bytesRead) {
                // pg_basebackup only appends; a different size means the copy is not the tar it wrote.
                throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: " + plain.getFileName()
                        + " was " + size + " bytes but " + bytesRead + " were compressed; nothing was kept");
            }
            if (keepAs != null) {
                Files.move(plain, keepAs);
            } else {
                Files.delete(plain);
            }
            return stored;
        }
    }

    private static FollowedTar compressWhileWritten(Path from, String name, Compression compression,
                                                    FollowingFileInputStream.Writer writer, Path to) throws IOException {
        Path plain = from.resolve(name);
        MessageDigest sha = sha256();
        byte[] buffer = new byte[COPY_BUFFER];
        int n;
        if (compression == Compression.NONE) {
            try (FollowingFileInputStream in = new FollowingFileInputStream(plain, writer)) {
                while ((n = in.read(buffer)) >= 0) {
                    sha.update(buffer, 0, n);
                }
                return new FollowedTar(plain, new BackupManifest.BackupFile(name, in.position(),
                        HexFormat.of().formatHex(sha.digest())), in.position(), to.resolve(name));
            }
        }
        Path target = to.resolve(name + compression.suffix());
        CountingOutputStream counted;
        long read;
        try (FollowingFileInputStream in = new FollowingFileInputStream(plain, writer);
             OutputStream file = new java.io.BufferedOutputStream(Files.newOutputStream(createOwnerOnly(target)), COPY_BUFFER);
             CountingOutputStream counting = new CountingOutputStream(new DigestOutputStream(file, sha));
             OutputStream out = compression.compress(counting)) {
            counted = counting;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
            read = in.position();
        }
        return new FollowedTar(plain, new BackupManifest.BackupFile(target.getFileName().toString(), counted.count(),
                HexFormat.of().formatHex(sha.digest())), read, null);
    }

    /**
     * pg_basebackup writes one {@code <oid>.tar} per tablespace outside PGDATA. pgbackup stores and
     * restores only base.tar and pg_wal.tar (the spec's known limitation), so such a backup would
     * look complete and restore without those tables: it is refused instead of kept.
     */
    private static void refuseTablespaces(Path raw) {
        List<String> tablespaces;
        try (var files = Files.list(raw)) {
            tablespaces = files.map(f -> f.getFileName().toString())
                    .filter(n -> n.matches("\\d+\\.tar.*")).sorted().toList();
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "backup failed: cannot list " + raw + ": " + describeIo(e), e);
        }
        if (!tablespaces.isEmpty()) {
            throw new PgBackupException(ErrorCode.REFUSED, "backup refused: the cluster has tablespaces outside PGDATA ("
                    + String.join(", ", tablespaces) + "), which pgbackup does not back up; nothing was kept."
                    + " Move them into the default tablespace (ALTER TABLE ... SET TABLESPACE pg_default)");
        }
    }

    /** Backups hold all the data of the cluster: readable by its owner only, whatever the umask. */
    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> OWNER_ONLY =
            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");

    private static Path createOwnerOnly(Path file) throws IOException {
        return Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    }

    private static Path requireFile(Path dir, String name) {
        Path file = dir.resolve(name);
        if (!Files.exists(file)) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: pg_basebackup wrote no "
                    + name + "; nothing was kept");
        }
        return file;
    }

    private static ServerFacts join(CompletableFuture<ServerFacts> check) {
        try {
            return check.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    private static ProcessResult await(RunningProcess running) {
        try {
            return running.await();
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            running.destroy();
            Thread.currentThread().interrupt();
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup interrupted; nothing was kept", e);
        }
    }

    private static void awaitQuietly(RunningProcess running) {
        try {
            running.await();
        } catch (IOException | InterruptedException e) {
            log.debug("pg_basebackup did not end cleanly after being stopped: {}", e.toString());
        }
    }

    static BackupManifest.BackupFile describe(Path file) throws IOException {
        MessageDigest sha = sha256();
        long size = 0;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[256 * 1024];
            int n;
            while ((n = in.read(buffer)) > 0) {
                sha.update(buffer, 0, n);
                size += n;
            }
        }
        return new BackupManifest.BackupFile(file.getFileName().toString(), size, HexFormat.of().formatHex(sha.digest()));
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** pg_basebackup refuses servers newer than itself: one line naming both versions and the fix. */
    private void clientTooOld(ServerInfo server) {
        try {
            ProcessResult r = context.processRunner().run(ProcessSpec.of(
                    context.binaries().tool("pg_basebackup").toString(), "--version").withTimeout(Duration.ofSeconds(30)));
            Matcher m = Pattern.compile("\\(PostgreSQL\\) (\\d+)").matcher(r.stdout());
            if (m.find() && Integer.parseInt(m.group(1)) < server.majorVersion()) {
                throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "pg_basebackup " + m.group(1)
                        + " cannot back up PostgreSQL " + server.majorVersion() + ": install PostgreSQL "
                        + server.majorVersion() + "'s client programs and set PG_BIN to their directory");
            }
        } catch (IOException e) {
            log.debug("pg_basebackup --version could not run: {}", e.getMessage());
        }
    }

    /** pg_basebackup's reason: its last line but its clean-up note ("removing data directory ..."), which follows the reason. */
    private static String reason(String stderr) {
        List<String> lines = stderr.lines().filter(l -> !l.isBlank() && !l.contains(": removing ")).toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
    }

    /** pg_basebackup's own last line, with a hint for the usual causes. */
    private static String explain(String line) {
        String hint = "";
        String lower = line.toLowerCase(java.util.Locale.ROOT);
        if (lower.contains("password authentication failed")) {
            hint = " (check PG_USER_NAME and PG_PASSWORD)";
        } else if (lower.contains("connection refused") || lower.contains("could not connect")) {
            hint = " (is the server running? check PG_HOST and PG_PORT)";
        } else if (lower.contains("no pg_hba.conf entry for replication")) {
            hint = " (allow replication connections for this user in pg_hba.conf)";
        } else if (lower.contains("must be superuser or replication") || lower.contains("permission denied to start wal sender")) {
            hint = " (grant it with: ALTER USER ... REPLICATION)";
        } else if (lower.contains("no space left")) {
            hint = " (free space in PG_BACKUP_DIR)";
        }
        return (line.isEmpty() ? "pg_basebackup failed without a message" : line) + hint + "; nothing was kept";
    }

    static String describeIo(IOException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (message.contains("No space left")) {
            return "no space left on device";
        }
        return message;
    }

    private static void deleteQuietly(Path dir) {
        try {
            AtomicFiles.deleteTree(dir);
        } catch (IOException e) {
            log.warn("could not remove {}: {}", dir, e.getMessage());
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is already exiting; the hook runs and finds the backup finished
        }
    }

    /** Counts bytes as they pass, for the stored size of a compressed file. */
    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        private long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        long count() {
            return count;
        }
    }
}
