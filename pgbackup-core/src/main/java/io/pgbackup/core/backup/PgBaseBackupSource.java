package io.pgbackup.core.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.archive.WalSegmentName;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.process.ProcessResult;
import io.pgbackup.core.process.ProcessSpec;
import io.pgbackup.core.process.RunningProcess;
import io.pgbackup.core.storage.AtomicFiles;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.FollowingFileInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A backup through {@code pg_basebackup -Ft -X stream} into a local scratch directory:
 * {@code base.tar} is streamed into the sink while pg_basebackup still writes it, the rest once
 * it has finished. It needs scratch space for the uncompressed tars; {@link ReplicationSource}
 * does not, and is the default.
 */
final class PgBaseBackupSource implements BackupSource {
    private static final Logger log = LoggerFactory.getLogger(PgBaseBackupSource.class);
    private static final Pattern START_POINT = Pattern.compile("write-ahead log start point: (\\S+) on timeline (\\d+)");
    private static final Pattern END_POINT = Pattern.compile("write-ahead log end point: (\\S+)");
    private static final int COPY_BUFFER = 256 * 1024;

    private final PgBackupContext context;
    private final Path scratchParent;

    PgBaseBackupSource(PgBackupContext context, Path scratchParent) {
        this.context = context;
        this.scratchParent = scratchParent;
    }

    @Override
    public Taken take(BackupRun run, ArchiveSink sink) {
        Path scratch;
        try {
            scratch = Files.createTempDirectory(Files.createDirectories(scratchParent), ".staging-" + run.id() + "-");
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot create a scratch directory in " + scratchParent + ": " + e.getMessage(), e);
        }
        try {
            return take(run, sink, scratch.resolve("pg_basebackup"));
        } finally {
            try {
                AtomicFiles.deleteTree(scratch);
            } catch (IOException e) {
                log.warn("could not remove {}: {}", scratch, e.getMessage());
            }
        }
    }

    private Taken take(BackupRun run, ArchiveSink sink, Path raw) {
        PgBackupConfig config = context.config();
        List<String> command = new ArrayList<>(List.of(
                context.binaries().tool("pg_basebackup").toString(),
                "--host=" + config.host(), "--port=" + config.port(), "--username=" + config.requireUser(),
                "--pgdata=" + raw, "--format=tar", "--wal-method=stream",
                "--checkpoint=" + (run.options().fastCheckpoint() ? "fast" : "spread"),
                "--label=" + run.label(), "--no-password", "--verbose", "--no-sync"));
        if (run.options().reportsProgress()) {
            command.add("--progress");
        }
        Map<String, String> env = new LinkedHashMap<>(config.childEnvironment());
        env.put("PGAPPNAME", "pgbackup");
        env.put("PGCONNECT_TIMEOUT", "10");
        env.put("PGDATABASE", config.database().orElse("postgres"));
        boolean serverZstd = run.compression() == Compression.ZSTD && run.server().info().versionNum() >= 150000;
        if (serverZstd) {
            command.add("--compress=server-zstd:level=" + Compression.ZSTD.defaultLevel() + ",workers=" + Compression.defaultThreads());
        }
        String baseName = "base.tar" + (serverZstd ? Compression.ZSTD.suffix() : "");
        ProcessSpec spec = ProcessSpec.of(command).withEnvironment(env).withStderrListener(run.options().progress());
        RunningProcess running;
        try {
            log.debug("running {}", spec);
            running = context.processRunner().start(spec);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: " + e.getMessage(), e);
        }
        run.serverCheck().whenComplete((facts, failure) -> {
            if (failure != null) {
                running.destroy();
            }
        });
        try {
            // base.tar goes into the sink while pg_basebackup still writes it: the two overlap.
            copy(raw.resolve(baseName), running::awaitEnd, sink.archive(baseName));
        } catch (IOException | RuntimeException e) {
            running.destroy();
            awaitQuietly(running);
            throw new PgBackupException(ErrorCode.IO_FAILED, "backup failed while storing " + baseName + ": "
                    + (e instanceof IOException io ? io.getMessage() : e.getMessage()) + "; nothing was kept", e);
        }
        ProcessResult result = await(running);
        run.server();
        if (!result.succeeded()) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: " + explain(result.lastErrorLine()));
        }
        try {
            refuseTablespaces(raw);
            List<BackupManifest.Tablespace> tablespaces = List.of();
            copy(requireFile(raw, "pg_wal.tar"), wait -> true, sink.archive("pg_wal.tar"));
            long[] range = walRange(raw, result.stderr());
            if (Files.exists(raw.resolve(StoringSink.PG_MANIFEST))) {
                copy(raw.resolve(StoringSink.PG_MANIFEST), wait -> true, sink.manifest());
            }
            return new Taken((int) range[0], range[1], range[2], tablespaces);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "backup failed: " + e.getMessage() + "; nothing was kept", e);
        }
    }

    /** Copies a file (followed while its writer runs) into {@code out} and closes it; a file of another size is refused. */
    private static void copy(Path file, FollowingFileInputStream.Writer writer, OutputStream out) throws IOException {
        byte[] buffer = new byte[COPY_BUFFER];
        long read;
        try (FollowingFileInputStream in = new FollowingFileInputStream(file, writer)) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
            read = in.position();
        }
        long size = Files.exists(file) ? Files.size(file) : -1;
        if (size != read) {
            // pg_basebackup only appends; a different size means the copy is not the tar it wrote.
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: " + file.getFileName()
                    + " was " + size + " bytes but " + read + " were stored; nothing was kept");
        }
        out.close();
    }

    /**
     * Tablespaces are not restored yet, so a backup holding them would look complete and restore
     * without those tables: it is refused instead of kept.
     */
    private static void refuseTablespaces(Path raw) throws IOException {
        List<String> tablespaces;
        try (var files = Files.list(raw)) {
            tablespaces = files.map(f -> f.getFileName().toString()).filter(n -> n.matches("\\d+\\.tar.*")).sorted().toList();
        }
        if (!tablespaces.isEmpty()) {
            throw new PgBackupException(ErrorCode.REFUSED, "backup refused: the cluster has tablespaces outside PGDATA ("
                    + String.join(", ", tablespaces) + "), which pgbackup does not back up; nothing was kept."
                    + " Move them into the default tablespace (ALTER TABLE ... SET TABLESPACE pg_default)");
        }
    }

    private static Path requireFile(Path dir, String name) {
        Path file = dir.resolve(name);
        if (!Files.exists(file)) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: pg_basebackup wrote no " + name + "; nothing was kept");
        }
        return file;
    }

    /** Timeline, start and stop LSN from PostgreSQL's own backup_manifest (13+), else from pg_basebackup's verbose output. */
    private static long[] walRange(Path raw, String stderr) throws IOException {
        Path pgManifest = raw.resolve(StoringSink.PG_MANIFEST);
        if (Files.exists(pgManifest)) {
            JsonNode ranges;
            try (InputStream in = Files.newInputStream(pgManifest)) {
                ranges = new ObjectMapper().readTree(in).path("WAL-Ranges");
            }
            if (ranges.isArray() && ranges.size() > 0) {
                JsonNode first = ranges.get(0);
                JsonNode last = ranges.get(ranges.size() - 1);
                return new long[] {last.path("Timeline").asInt(), WalSegmentName.parseLsn(first.path("Start-LSN").asText()),
                        WalSegmentName.parseLsn(last.path("End-LSN").asText())};
            }
        }
        Matcher start = START_POINT.matcher(stderr);
        Matcher end = END_POINT.matcher(stderr);
        if (!start.find() || !end.find()) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED,
                    "backup failed: pg_basebackup reported no WAL start and end points; nothing was kept");
        }
        return new long[] {Integer.parseInt(start.group(2)), WalSegmentName.parseLsn(start.group(1)), WalSegmentName.parseLsn(end.group(1))};
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

    /** pg_basebackup's own last line, with a hint for the usual causes. */
    static String explain(String line) {
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
}
