package io.pgbackup.core.internal.postgres;

import io.pgbackup.core.postgres.PgBinaries;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.process.ProcessRunner.ProcessResult;
import io.pgbackup.core.process.ProcessRunner.ProcessSpec;
import io.pgbackup.core.process.ProcessRunner;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL cluster on this machine driven through its own programs (initdb, pg_ctl, psql):
 * what {@code demo} creates and what {@code verify --restore-test} starts from a restored copy.
 * Its socket lives in its own directory and it listens on the port given, so it never meets the
 * machine's own server.
 */
public final class LocalCluster {
    private final PgBinaries binaries;
    private final ProcessRunner runner;
    private final Path dataDir;
    private final Path socketDir;
    private final int port;
    private final String superuser;

    public LocalCluster(PgBinaries binaries, ProcessRunner runner, Path dataDir, Path socketDir, int port,
                        String superuser) {
        this.binaries = binaries;
        this.runner = runner;
        this.dataDir = dataDir;
        this.socketDir = socketDir;
        this.port = port;
        this.superuser = superuser;
    }

    /**
     * Creates a new cluster. TCP connections need {@code password} (scram-sha-256), as in
     * production; the local socket in {@code socketDir} trusts its owner. The password reaches
     * initdb through a 0600 file that is removed at once, never the command line.
     */
    public static LocalCluster initdb(PgBinaries binaries, ProcessRunner runner, Path dataDir, Path socketDir,
                                      int port, String superuser, String password) {
        refuseRoot();
        try {
            Files.createDirectories(socketDir);
            Path pwFile = Files.createTempFile(socketDir, ".pw", "", java.nio.file.attribute.PosixFilePermissions
                    .asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            try {
                Files.writeString(pwFile, password + "\n");
                run(runner, ProcessSpec.of(binaries.tool("initdb").toString(), "-D", dataDir.toString(),
                        "-U", superuser, "--pwfile=" + pwFile, "--auth-host=scram-sha-256", "--auth-local=trust",
                        "-E", "UTF8", "--locale=C", "--data-checksums").withTimeout(Duration.ofMinutes(5)), "initdb");
            } finally {
                Files.deleteIfExists(pwFile);
            }
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot create a cluster in " + dataDir + ": " + e.getMessage(), e);
        }
        return new LocalCluster(binaries, runner, dataDir, socketDir, port, superuser);
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path socketDir() {
        return socketDir;
    }

    public int port() {
        return port;
    }

    public Path logFile() {
        return socketDir.resolve("postgres.log");
    }

    /** Appends settings to postgresql.conf; later lines win, so this overrides what is there. */
    public void configure(Map<String, String> settings) {
        StringBuilder text = new StringBuilder("\n# added by pgbackup\n");
        settings.forEach((k, v) -> text.append(k).append(" = ").append(v).append('\n'));
        try {
            Files.writeString(dataDir.resolve("postgresql.conf"), text, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot write " + dataDir.resolve("postgresql.conf")
                    + ": " + e.getMessage(), e);
        }
    }

    /** Starts the server on this cluster's port and socket, waiting until it accepts connections (or recovery is under way). */
    public void start(Duration timeout) {
        start(timeout, Map.of());
    }

    /** As {@link #start(Duration)}, with {@code environment} added to the server's (its archive and restore scripts see it). */
    public void start(Duration timeout, Map<String, String> environment) {
        run(runner, ProcessSpec.of(binaries.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-l",
                logFile().toString(), "-o", "-p " + port + " -k " + PgConfText.shellQuote(socketDir.toString()), "-w", "-t",
                String.valueOf(timeout.toSeconds()), "start").withEnvironment(environment)
                .withTimeout(timeout.plusSeconds(30)), "pg_ctl start");
    }

    public void stop() {
        run(runner, ProcessSpec.of(binaries.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-m", "fast", "-w",
                "-t", "120", "stop").withTimeout(Duration.ofMinutes(3)), "pg_ctl stop");
    }

    /** Stops the server if it runs; never fails (for cleanup paths). */
    public void stopQuietly() {
        try {
            if (Files.exists(dataDir.resolve("postmaster.pid"))) {
                runner.run(ProcessSpec.of(binaries.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-m", "immediate",
                        "-w", "-t", "60", "stop").withTimeout(Duration.ofMinutes(2)));
            }
        } catch (IOException | RuntimeException ignored) {
            // best effort: the caller is already handling another failure
        }
    }

    /** Runs SQL through psql over the local socket; returns unaligned, tuples-only output. */
    public String psql(String database, String sql) {
        ProcessResult result = run(runner, ProcessSpec.of(binaries.tool("psql").toString(), "-X", "-q", "-A", "-t",
                "-v", "ON_ERROR_STOP=1", "-h", socketDir.toString(), "-p", String.valueOf(port), "-U", superuser,
                "-d", database, "-c", sql).withTimeout(Duration.ofMinutes(10)), "psql");
        return result.stdout().strip();
    }

    /** Waits until recovery has ended and the server accepts writes (a restored copy that promoted). */
    public void awaitPromoted(Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        String last = "";
        while (Instant.now().isBefore(deadline)) {
            try {
                if ("f".equals(psql("postgres", "SELECT pg_is_in_recovery()"))) {
                    return;
                }
            } catch (PgBackupException e) {
                last = e.getMessage();
            }
            pause();
        }
        throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, "the server in " + dataDir
                + " did not finish recovery within " + timeout.toSeconds() + " s" + (last.isEmpty() ? "" : " (" + last + ")")
                + ": see " + logFile());
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "no free TCP port on this machine: " + e.getMessage(), e);
        }
    }

    /** initdb and postgres refuse root; say so before they do, with the fix. */
    public static void refuseRoot() {
        if ("root".equals(System.getProperty("user.name"))) {
            throw new PgBackupException(ErrorCode.REFUSED, "PostgreSQL refuses to run as root: run this as the"
                    + " OS user that owns the cluster, e.g. runuser -u postgres -- bin/pgbackup ...");
        }
    }

    private static ProcessResult run(ProcessRunner runner, ProcessSpec spec, String what) {
        ProcessResult result;
        try {
            result = runner.run(spec);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, what + " could not run: " + e.getMessage(), e);
        }
        if (!result.succeeded()) {
            String reason = result.lastErrorLine().isEmpty() ? lastLine(result.stdout()) : result.lastErrorLine();
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, what + " failed"
                    + (result.timedOut() ? " (timed out)" : " (exit " + result.exitCode() + ")") + ": " + reason);
        }
        return result;
    }

    private static String lastLine(String text) {
        List<String> lines = new ArrayList<>(text.strip().lines().toList());
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    private static void pause() {
        try {
            TimeUnit.MILLISECONDS.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgBackupException(ErrorCode.IO_FAILED, "interrupted while waiting for PostgreSQL");
        }
    }
}
