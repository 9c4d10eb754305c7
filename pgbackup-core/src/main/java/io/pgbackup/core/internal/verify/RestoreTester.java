package io.pgbackup.core.internal.verify;

import io.pgbackup.core.verify.VerifyReport.BackupVerdict;

import io.pgbackup.core.verify.VerifyReport.VerifyCheck;

import io.pgbackup.core.verify.VerifyRequest;

import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.internal.postgres.LocalCluster;
import io.pgbackup.core.postgres.PgBinaries;
import io.pgbackup.core.process.ProcessRunner.ProcessResult;
import io.pgbackup.core.process.ProcessRunner.ProcessSpec;
import io.pgbackup.core.restore.RestorePlanner;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestorePlan;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetTimeline;
import io.pgbackup.core.restore.RestorePlanner.RestoreResult;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.internal.storage.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The proof that a backup restores: restore it with target {@code immediate} into a private
 * temporary directory (through the same planner and extractor as {@code restore}), start
 * {@code postgres} on it with archiving off, no TCP listener and its socket in that directory,
 * wait until recovery has finished and it has promoted, ask every database a question, run
 * {@code pg_amcheck} when it is installed, stop it and remove the copy, whatever happened.
 */
final class RestoreTester {
    static final String CHECK_NAME = BackupVerdict.RESTORE_TEST_CHECK;
    /** unix_socket_directories plus "/.s.PGSQL.NNNNN" must fit in sun_path (108 bytes). */
    private static final int MAX_SOCKET_DIR = 80;

    private final PgBackupContext context;
    private final RestorePlanner planner;

    RestoreTester(PgBackupContext context, RestorePlanner planner) {
        this.context = context;
        this.planner = planner;
    }

    VerifyCheck run(BackupInfo backup, VerifyRequest request) {
        io.pgbackup.core.internal.crypto.ReadCheck.requireOpenable(context.repository(), backup,
                io.pgbackup.core.internal.archive.WalArchive.sharded(context.repository()), "verify --restore-test");
        Instant start = Instant.now();
        Path parent = request.restoreTestDir().orElse(Path.of(System.getProperty("java.io.tmpdir")));
        Path work = null;
        Path socketDir = null;
        LocalCluster cluster = null;
        String outcome;
        boolean ok = false;
        try {
            LocalCluster.refuseRoot();
            PgBinaries binaries = context.binaries();
            refuseShellSpecial(parent);
            checkSpace(parent, backup);
            work = Files.createTempDirectory(Files.createDirectories(parent), "pgbackup-restore-test-" + backup.id() + "-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            socketDir = work.toString().length() <= MAX_SOCKET_DIR && work.toString().indexOf(',') < 0 ? work
                    : Files.createTempDirectory(Path.of("/tmp"), "pgbackup-rt-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path data = work.resolve("data");

            // Every tablespace into the private directory too: the originals may be in use and are never touched.
            Map<Path, Path> tablespaces = new LinkedHashMap<>();
            for (var t : backup.manifest().tablespaces()) {
                tablespaces.put(Path.of(t.location()), work.resolve("tablespace-" + t.oid()));
            }
            // The backup's own timeline: consistency is reached on it, and a later timeline in the archive that branched
            // off before the backup (a restored copy's) would make PostgreSQL refuse to start.
            RestorePlan plan = planner.plan(new RestoreRequest(Optional.of(backup.id()), new RecoveryTarget.Immediate(),
                    TargetAction.PROMOTE, Optional.of(data), false, tablespaces).withTimeline(TargetTimeline.current()));
            RestoreResult restored = planner.execute(plan);
            int port = LocalCluster.freePort();
            writeTestSettings(data, socketDir, port);

            Instant startup = Instant.now();
            String connectAs = context.config().user().orElse(System.getProperty("user.name"));
            cluster = new LocalCluster(binaries, context.processRunner(), data, socketDir, port, connectAs);
            startServer(cluster, request.restoreTestTimeout());
            String maintenanceDb = awaitPromoted(cluster, request.restoreTestTimeout());
            Duration recovery = Duration.between(startup, Instant.now());

            // The trust line in our own pg_hba lets us in as the bootstrap superuser, whatever PG_USER_NAME may do.
            String superuser = cluster.psql(maintenanceDb, "SELECT rolname FROM pg_roles WHERE oid = 10");
            cluster = new LocalCluster(binaries, context.processRunner(), data, socketDir, port, superuser);
            List<String> databases = cluster.psql(maintenanceDb,
                    "SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname").lines().filter(l -> !l.isBlank()).toList();
            long relations = 0;
            for (String db : databases) {
                relations += Long.parseLong(cluster.psql(db, "SELECT count(*) FROM pg_class").strip());
            }
            // pg_amcheck's heap checks call verify_heapam, which amcheck only has from PostgreSQL 14 on.
            int serverMajor = Integer.parseInt(cluster.psql(maintenanceDb, "SHOW server_version_num")) / 10000;
            String amcheck = serverMajor < 14 ? "pg_amcheck skipped (PostgreSQL " + serverMajor + " has no verify_heapam;"
                    + " it came in 14)" : amcheck(binaries, socketDir, port, superuser, maintenanceDb, request.restoreTestTimeout());
            cluster.stop();
            cluster = null;
            ok = true;
            outcome = "restored " + human(restored.bytesWritten()) + " in " + seconds(restored.duration())
                    + ", recovered and promoted in " + seconds(recovery) + ", " + databases.size() + " databases and "
                    + relations + " relations answer, " + amcheck;
        } catch (PgBackupException e) {
            outcome = withServerLog(e.getMessage(), socketDir);
        } catch (IOException | RuntimeException e) {
            outcome = withServerLog(BackupFilesChecker.message(e), socketDir);
        } finally {
            if (cluster != null) {
                cluster.stopQuietly();
            }
            if (work != null) {
                endRestoreMarker(work.resolve("data"));
            }
        }
        String leftover = remove(work, socketDir);
        Duration took = BackupFilesChecker.since(start);
        return ok && leftover.isEmpty() ? VerifyCheck.passed(CHECK_NAME, outcome + "; " + seconds(took) + " in all", took)
                : new VerifyCheck(CHECK_NAME, ok, outcome + leftover, took);
    }

    /**
     * pg_ctl starts postgres through the shell with {@code -D "<dir>"}: whatever a double-quoted
     * shell word expands ({@code " $ `}, two backslashes) would be read by the shell, so such a
     * directory is refused before anything is written.
     */
    private static void refuseShellSpecial(Path parent) {
        String dir = parent.toAbsolutePath().toString();
        if (dir.contains("\\\\") || dir.chars().anyMatch(c -> c == '"' || c == '$' || c == '`' || Character.isISOControl(c))) {
            throw new PgBackupException(io.pgbackup.core.ErrorCode.INVALID_ARGUMENT, "the restore test directory " + parent
                    + " holds a double quote, $, backtick, two backslashes or a control character, which pg_ctl would hand"
                    + " to the shell: give --restore-test-dir a plainer directory");
        }
    }

    /** The throwaway copy's restore marker goes with it (recovery_end_command removed it if the test got that far). */
    private void endRestoreMarker(Path data) {
        try {
            io.pgbackup.core.internal.restore.RestoreMarkers.endFrom(context.repository(), data);
        } catch (IOException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(RestoreTester.class).debug("restore marker of the restore test not removed: {}", e.getMessage());
        }
    }

    private static void checkSpace(Path parent, BackupInfo backup) throws IOException {
        Path existing = parent;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return;
        }
        long free = Files.getFileStore(existing).getUsableSpace();
        // The database as it was, its WAL, and some room for the WAL recovery writes.
        long needed = backup.manifest().databaseSizeBytes() + 2 * backup.manifest().walSegmentSize() + (64L << 20);
        if (free < needed) {
            throw new PgBackupException(io.pgbackup.core.ErrorCode.REFUSED, "the restore test needs about " + human(needed)
                    + " free in " + parent + " but there is " + human(free) + ": give --restore-test-dir on a larger filesystem");
        }
    }

    /**
     * postgresql.auto.conf is read last, so these win over whatever the backed-up cluster had:
     * no archiving into the real repository, no TCP, a socket only we can reach, trust on it
     * through a pg_hba of our own, and modest memory so a production configuration starts here.
     */
    private static void writeTestSettings(Path data, Path socketDir, int port) throws IOException {
        Path hba = socketDir.resolve("pg_hba.restore-test.conf");
        Files.writeString(hba, "# pgbackup verify --restore-test: the socket directory is private (0700)\nlocal all all trust\n",
                StandardCharsets.UTF_8);
        if (!Files.exists(data.resolve("postgresql.conf"))) {
            // Debian keeps postgresql.conf in /etc: the backup has none, the server needs one.
            Files.writeString(data.resolve("postgresql.conf"), "", StandardCharsets.UTF_8);
        }
        Map<String, String> s = new LinkedHashMap<>();
        s.put("archive_mode", "off");
        s.put("listen_addresses", "");
        s.put("port", String.valueOf(port));
        s.put("unix_socket_directories", socketDir.toString());
        s.put("hba_file", hba.toString());
        s.put("ssl", "off");
        s.put("shared_buffers", "128MB");
        s.put("huge_pages", "try");
        s.put("synchronous_standby_names", "");
        s.put("primary_conninfo", "");
        s.put("logging_collector", "off");
        s.put("log_destination", "stderr");
        StringBuilder text = new StringBuilder("# restore test settings written by pgbackup verify\n");
        text.append(io.pgbackup.core.internal.postgres.PgConfText.lines(s));
        Files.writeString(data.resolve("postgresql.auto.conf"), text, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    private static void startServer(LocalCluster cluster, Duration timeout) {
        try {
            cluster.start(timeout);
        } catch (PgBackupException e) {
            throw new PgBackupException(e.code(), "the restored copy did not start: " + firstServerError(cluster.logFile())
                    .orElse(e.getMessage()));
        }
    }

    /** Polls until recovery has ended; returns the database it could connect to (postgres, else template1). */
    private static String awaitPromoted(LocalCluster cluster, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        String last = "";
        while (Instant.now().isBefore(deadline)) {
            if (!Files.exists(cluster.dataDir().resolve("postmaster.pid"))) {
                throw new PgBackupException(io.pgbackup.core.ErrorCode.VERIFICATION_FAILED, "the restored copy stopped during recovery: "
                        + firstServerError(cluster.logFile()).orElse("see its log"));
            }
            for (String db : List.of("postgres", "template1")) {
                try {
                    if ("f".equals(cluster.psql(db, "SELECT pg_is_in_recovery()"))) {
                        return db;
                    }
                    break;
                } catch (PgBackupException e) {
                    last = e.getMessage();
                }
            }
            try {
                TimeUnit.MILLISECONDS.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgBackupException(io.pgbackup.core.ErrorCode.IO_FAILED, "interrupted while waiting for recovery");
            }
        }
        throw new PgBackupException(io.pgbackup.core.ErrorCode.VERIFICATION_FAILED, "the restored copy did not finish recovery within "
                + timeout.toMinutes() + " min" + (last.isEmpty() ? "" : " (" + last + ")"));
    }

    /** Heap and B-tree checks of every database; the copy is thrown away, so installing amcheck in it is harmless. */
    private String amcheck(PgBinaries binaries, Path socketDir, int port, String superuser, String maintenanceDb, Duration timeout)
            throws IOException {
        if (!binaries.has("pg_amcheck")) {
            return "pg_amcheck not installed (skipped)";
        }
        int jobs = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        ProcessResult r = context.processRunner().run(ProcessSpec.of(binaries.tool("pg_amcheck").toString(),
                "-h", socketDir.toString(), "-p", String.valueOf(port), "-U", superuser, "--no-password",
                "--maintenance-db=" + maintenanceDb, "--all", "--install-missing", "--jobs=" + jobs)
                .withTimeout(timeout));
        String output = (r.stdout() + "\n" + r.stderr()).strip();
        if (r.succeeded()) {
            return "pg_amcheck --all found no corruption";
        }
        if (output.contains("extension control file") || output.contains("amcheck\" is not available")) {
            return "pg_amcheck skipped (the amcheck extension is not installed on this machine)";
        }
        String first = output.lines().filter(l -> !l.isBlank()).findFirst().orElse("exit " + r.exitCode());
        throw new PgBackupException(io.pgbackup.core.ErrorCode.VERIFICATION_FAILED, "pg_amcheck found a problem"
                + (r.timedOut() ? " (timed out)" : "") + ": " + first);
    }

    /** The first FATAL or PANIC line of the server's log: why a restored copy would not start or recover. */
    private static Optional<String> firstServerError(Path log) {
        try {
            if (!Files.exists(log)) {
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String l = lines.get(i);
                int at = Math.max(l.indexOf("FATAL:"), l.indexOf("PANIC:"));
                if (at >= 0) {
                    // PostgreSQL puts the specifics (which version, which file) on the DETAIL line that follows.
                    String detail = i + 1 < lines.size() && lines.get(i + 1).contains("DETAIL:")
                            ? " " + lines.get(i + 1).substring(lines.get(i + 1).indexOf("DETAIL:")) : "";
                    return Optional.of(l.substring(at).replaceAll("\\s+", " ") + detail.replaceAll("\\s+", " "));
                }
            }
            return Optional.empty();
        } catch (IOException | java.io.UncheckedIOException e) {
            return Optional.empty();
        }
    }

    private static String withServerLog(String message, Path socketDir) {
        if (socketDir == null) {
            return message;
        }
        return firstServerError(socketDir.resolve("postgres.log")).filter(l -> !message.contains(l))
                .map(l -> message + " (server log: " + l + ")").orElse(message);
    }

    /** Removes the copy and the socket directory; returns a note when something could not be removed. */
    private static String remove(Path work, Path socketDir) {
        List<String> left = new ArrayList<>();
        for (Path dir : new Path[] {work, socketDir}) {
            if (dir == null || !Files.exists(dir)) {
                continue;
            }
            try {
                AtomicFiles.deleteTree(dir);
            } catch (IOException e) {
                left.add(dir.toString());
            }
        }
        return left.isEmpty() ? "" : "; could not remove " + String.join(", ", left) + ": remove it by hand";
    }

    static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    static String human(long bytes) {
        if (bytes < 1024 * 1024) {
            return (bytes / 1024) + " KiB";
        }
        if (bytes < 1024L * 1024 * 1024) {
            return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
        return String.format(java.util.Locale.ROOT, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
