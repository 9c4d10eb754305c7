package io.pgbackup.core.testing;

import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.postgres.PgBinaries;
import org.newsclub.net.unix.AFUNIXSocketFactory;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL cluster for tests, created with the local binaries ({@code PG_BIN}, else
 * {@code pg_config --bindir}, else {@code /usr/lib/postgresql/N/bin}) in a directory the test owns,
 * listening on a free port on 127.0.0.1 with its socket in its own directory. The superuser has a
 * random password and TCP connections must use it (scram-sha-256), as in production.
 *
 * <p>{@link #createSocketOnly} makes the other common setup: TCP off ({@code listen_addresses = ''})
 * and {@code pg_hba.conf} admitting only {@code local ... peer}, with the superuser named after
 * the OS user (as Debian's {@code postgres}), so pgbackup reaches it through the socket directory
 * in PG_HOST and no password.
 *
 * <p>initdb and postgres refuse to run as root; when Maven runs as root the build forks the test
 * JVM as an unprivileged user (see the parent POM), so this class never needs root tricks.
 */
public final class PgCluster implements AutoCloseable {
    public static final String SUPERUSER = "pgbackup_test";
    public static final String DATABASE = "postgres";

    private static PgBinaries binaries;

    private final PgBinaries programs;
    private final Path dataDir;
    private final Path socketDir;
    private final Path logFile;
    private final int port;
    private final String password;
    private final String superuser;
    private final boolean socketOnly;
    private boolean running;

    private PgCluster(PgBinaries programs, Path dataDir, Path socketDir, int port, String password) {
        this(programs, dataDir, socketDir, port, password, SUPERUSER, false);
    }

    private PgCluster(PgBinaries programs, Path dataDir, Path socketDir, int port, String password, String superuser,
                      boolean socketOnly) {
        this.programs = programs;
        this.dataDir = dataDir;
        this.socketDir = socketDir;
        this.logFile = socketDir.resolve("postgres.log");
        this.port = port;
        this.password = password;
        this.superuser = superuser;
        this.socketOnly = socketOnly;
    }

    /** PostgreSQL's programs on this machine, found once per JVM. */
    public static synchronized PgBinaries binaries() {
        if (binaries == null) {
            String pgBin = System.getenv("PG_BIN");
            binaries = PgBinaries.discover(pgBin == null || pgBin.isBlank() ? Optional.empty() : Optional.of(Path.of(pgBin)));
        }
        return binaries;
    }

    /** Creates and starts a new cluster in {@code workDir/data} with archiving-ready defaults plus {@code extraSettings}. */
    public static PgCluster create(Path workDir, Map<String, String> extraSettings) throws IOException {
        return create(workDir, binaries(), extraSettings);
    }

    /**
     * As {@link #create(Path, Map)}, a cluster of PostgreSQL {@code major}: its server programs,
     * the machine's client programs (see {@link PgVersions}); its {@link #config} and
     * {@link #environment} point PG_BIN at that mix.
     */
    public static PgCluster create(Path workDir, int major, Map<String, String> extraSettings) throws IOException {
        return create(workDir, PgVersions.binaries(major), extraSettings);
    }

    /** As {@link #create(Path, Map)}, with {@code programs}' server, e.g. {@link PgVersions#bundled(int)}. */
    public static PgCluster create(Path workDir, PgBinaries programs, Map<String, String> extraSettings) throws IOException {
        refuseRoot();
        Path dataDir = workDir.resolve("data");
        Path socketDir = Files.createDirectories(workDir.resolve("run"));
        String password = "pw-" + UUID.randomUUID();
        Path pwFile = workDir.resolve("pwfile");
        Files.writeString(pwFile, password + "\n");
        run(List.of(programs.tool("initdb").toString(), "-D", dataDir.toString(), "-U", SUPERUSER,
                "--pwfile=" + pwFile, "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8",
                "--locale=C", "--data-checksums", "--no-sync"), Duration.ofMinutes(2));
        Files.delete(pwFile);
        PgCluster cluster = new PgCluster(programs, dataDir, socketDir, freePort(), password);
        return cluster.startNew("'127.0.0.1'", extraSettings);
    }

    public static PgCluster create(Path workDir) throws IOException {
        return create(workDir, Map.of());
    }

    /**
     * Creates and starts a cluster reachable only through its Unix-domain socket in
     * {@code workDir/run}: {@code listen_addresses = ''}, and a {@code pg_hba.conf} of
     * {@code local all all peer} and {@code local replication all peer} (replication connections
     * match no {@code all} line). The superuser is named after the OS user running the tests, so
     * peer authentication admits it without a password; {@link #password()} is null.
     */
    public static PgCluster createSocketOnly(Path workDir, Map<String, String> extraSettings) throws IOException {
        refuseRoot();
        Path dataDir = workDir.resolve("data");
        Path socketDir = Files.createDirectories(workDir.resolve("run"));
        String osUser = System.getProperty("user.name");
        run(List.of(binaries().tool("initdb").toString(), "-D", dataDir.toString(), "-U", osUser,
                "--auth-local=peer", "--auth-host=reject", "-E", "UTF8", "--locale=C", "--data-checksums", "--no-sync"),
                Duration.ofMinutes(2));
        Files.writeString(dataDir.resolve("pg_hba.conf"), "# pgbackup test fixture: the socket only, peer authentication\n"
                + "local all all peer\nlocal replication all peer\n", StandardCharsets.UTF_8);
        PgCluster cluster = new PgCluster(binaries(), dataDir, socketDir, freePort(), null, osUser, true);
        return cluster.startNew("''", extraSettings);
    }

    /** The settings every new test cluster starts with (archiving-ready, fast, small), then {@code extraSettings}. */
    private PgCluster startNew(String listenAddresses, Map<String, String> extraSettings) throws IOException {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("listen_addresses", listenAddresses);
        settings.put("port", String.valueOf(port));
        settings.put("unix_socket_directories", "'" + socketDir + "'");
        settings.put("wal_level", "replica");
        settings.put("max_wal_senders", "10");
        settings.put("fsync", "off");
        settings.put("shared_buffers", "32MB");
        settings.put("max_connections", "30");
        extraSettings.forEach(settings::put);
        appendSettings(settings);
        start();
        return this;
    }

    /**
     * Starts a restored copy of a {@link #createSocketOnly} cluster (its pg_hba.conf and
     * {@code listen_addresses = ''} came along) on a fresh port with its socket in {@code runDir}.
     */
    public static PgCluster startExistingSocketOnly(Path dataDir, Path runDir, Map<String, String> settings)
            throws IOException {
        refuseRoot();
        Files.createDirectories(runDir);
        PgCluster cluster = new PgCluster(binaries(), dataDir, runDir, freePort(), null, System.getProperty("user.name"), true);
        Map<String, String> all = new LinkedHashMap<>(settings);
        all.put("port", String.valueOf(cluster.port));
        all.put("unix_socket_directories", "'" + runDir + "'");
        cluster.appendSettings(all);
        cluster.start();
        return cluster;
    }

    /**
     * Wraps an existing data directory (a restored copy) and starts it on a fresh port, with its
     * socket in {@code runDir}. {@code password} is the superuser's from the original cluster.
     */
    public static PgCluster startExisting(Path dataDir, Path runDir, String password) throws IOException {
        return startExisting(dataDir, runDir, password, Map.of("archive_mode", "off"));
    }

    /**
     * As {@link #startExisting(Path, Path, String)}, with {@code settings} (e.g. archiving on) in
     * place from the first start: a restart while recovery is ending can land the copy back on
     * the old timeline (PostgreSQL removes recovery.signal before its end-of-recovery checkpoint).
     */
    public static PgCluster startExisting(Path dataDir, Path runDir, String password, Map<String, String> settings)
            throws IOException {
        return startExisting(binaries(), dataDir, runDir, password, settings);
    }

    /** As {@link #startExisting(Path, Path, String, Map)}, with {@code programs}' server (the original cluster's version). */
    public static PgCluster startExisting(PgBinaries programs, Path dataDir, Path runDir, String password,
                                          Map<String, String> settings) throws IOException {
        return startExisting(programs, dataDir, runDir, password, settings, Map.of());
    }

    /** As {@link #startExisting(PgBinaries, Path, Path, String, Map)}, the server started with {@code env} added to its environment. */
    public static PgCluster startExisting(PgBinaries programs, Path dataDir, Path runDir, String password,
                                          Map<String, String> settings, Map<String, String> env) throws IOException {
        refuseRoot();
        Files.createDirectories(runDir);
        PgCluster cluster = new PgCluster(programs, dataDir, runDir, freePort(), password);
        Map<String, String> all = new LinkedHashMap<>(settings);
        all.put("port", String.valueOf(cluster.port));
        all.put("unix_socket_directories", "'" + runDir + "'");
        cluster.appendSettings(all);
        cluster.addServerEnvironment(env);
        cluster.start();
        return cluster;
    }

    /**
     * Creates a streaming standby of {@code primary} in {@code workDir/data}: a copy taken with
     * {@code pg_basebackup -X stream} (the primary's postgresql.conf comes along), then
     * {@code standby.signal} and a {@code primary_conninfo} over TCP with the superuser's password,
     * a fresh port and its own socket directory, {@code extraSettings} last (e.g.
     * {@code archive_mode = always}). Returns once the standby streams from the primary.
     */
    public static PgCluster createStandby(PgCluster primary, Path workDir, Map<String, String> extraSettings)
            throws Exception {
        refuseRoot();
        if (primary.socketOnly) {
            throw new IllegalArgumentException("createStandby needs a primary reachable over TCP (not createSocketOnly)");
        }
        Path dataDir = workDir.resolve("data");
        Path socketDir = Files.createDirectories(workDir.resolve("run"));
        ProcessBuilder pb = new ProcessBuilder(primary.programs.tool("pg_basebackup").toString(), "-D", dataDir.toString(),
                "-h", "127.0.0.1", "-p", String.valueOf(primary.port), "-U", primary.superuser, "-X", "stream",
                "-c", "fast", "--no-sync").redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", primary.password);
        runBuilt(pb, Duration.ofMinutes(3));
        PgCluster standby = new PgCluster(primary.programs, dataDir, socketDir, freePort(), primary.password);
        Files.writeString(dataDir.resolve("standby.signal"), "");
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("port", String.valueOf(standby.port));
        settings.put("unix_socket_directories", "'" + socketDir + "'");
        settings.put("hot_standby", "on");
        settings.put("primary_conninfo", "'host=127.0.0.1 port=" + primary.port + " user=" + primary.superuser
                + " password=" + primary.password + " application_name=pgbackup_test_standby'");
        extraSettings.forEach(settings::put);
        standby.appendSettings(settings);
        standby.start();
        standby.awaitStreaming(Duration.ofMinutes(2));
        return standby;
    }

    /** Waits until this standby's WAL receiver streams from its primary. */
    public void awaitStreaming(Duration limit) throws Exception {
        await(limit, "the standby in " + dataDir + " to stream from its primary (log: " + logFile + ")", () -> {
            try {
                return "streaming".equals(queryString("SELECT status FROM pg_stat_wal_receiver"));
            } catch (SQLException e) {
                return false;
            }
        });
    }

    /** Waits until this standby has replayed everything {@code primary} has written so far. */
    public void awaitReplayed(PgCluster primary, Duration limit) throws Exception {
        String target = primary.queryString("SELECT pg_current_wal_lsn()");
        await(limit, "the standby to replay up to " + target, () ->
                "t".equals(queryString("SELECT pg_last_wal_replay_lsn() >= '" + target + "'::pg_lsn")));
    }

    /** This cluster's programs: its version's server, the machine's client programs. */
    public PgBinaries programs() {
        return programs;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path socketDir() {
        return socketDir;
    }

    public Path logFile() {
        return logFile;
    }

    public int port() {
        return port;
    }

    /** The superuser's password; null for a {@link #createSocketOnly} cluster (peer authentication). */
    public String password() {
        return password;
    }

    /** The superuser's name: {@link #SUPERUSER}, or the OS user for a {@link #createSocketOnly} cluster. */
    public String superuser() {
        return superuser;
    }

    /** Whether this cluster has TCP off and is reached through its socket directory with peer authentication. */
    public boolean isSocketOnly() {
        return socketOnly;
    }

    /** PG_HOST for this cluster: 127.0.0.1, or the socket directory of a socket-only cluster. */
    public String host() {
        return socketOnly ? socketDir.toString() : "127.0.0.1";
    }

    /** A configuration pointing pgbackup at this cluster and {@code backupDir}. */
    public PgBackupConfig config(Path backupDir) {
        return PgBackupConfig.builder().user(superuser).password(password).database(DATABASE)
                .host(host()).port(port).backupDir(backupDir).pgData(dataDir)
                .pgBin(programs.binDir()).build();
    }

    /** The spec's environment variables for this cluster and {@code backupDir}, for driving the CLI. */
    public Map<String, String> environment(Path backupDir) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PG_USER_NAME", superuser);
        if (password != null) {
            env.put("PG_PASSWORD", password);
        }
        env.put("PG_DB_NAME", DATABASE);
        env.put("PG_HOST", host());
        env.put("PG_PORT", String.valueOf(port));
        env.put("PG_BACKUP_DIR", backupDir.toString());
        env.put("PGDATA", dataDir.toString());
        env.put("PG_BIN", programs.binDir().toString());
        return env;
    }

    public void appendSettings(Map<String, String> settings) throws IOException {
        StringBuilder text = new StringBuilder("\n# pgbackup test fixture\n");
        settings.forEach((k, v) -> text.append(k).append(" = ").append(v).append('\n'));
        Files.writeString(dataDir.resolve("postgresql.conf"), text.toString(), StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
    }

    /** Variables the server (and so its archive_command) gets on its next start, beside the test's own. */
    private final Map<String, String> serverEnvironment = new java.util.concurrent.ConcurrentHashMap<>();

    /** Adds {@code env} to the server's environment from its next start (e.g. S3 credentials for archive_wal.sh's sync). */
    public void addServerEnvironment(Map<String, String> env) {
        serverEnvironment.putAll(env);
    }

    public synchronized void start() throws IOException {
        run(List.of(programs.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-l", logFile.toString(),
                "-w", "-t", "120", "start"), Duration.ofMinutes(3), serverEnvironment);
        running = true;
    }

    public synchronized void stop() throws IOException {
        if (running) {
            run(List.of(programs.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-m", "fast", "-w",
                    "-t", "120", "stop"), Duration.ofMinutes(3));
            running = false;
        }
    }

    /** Stops the server with {@code pg_ctl -m immediate}: no shutdown checkpoint, crash recovery on the next {@link #start()}. */
    public synchronized void stopImmediately() throws IOException {
        if (running) {
            run(List.of(programs.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-m", "immediate", "-w",
                    "-t", "120", "stop"), Duration.ofMinutes(3));
            running = false;
        }
    }

    public void restart() throws IOException {
        stop();
        start();
    }

    public boolean isRunning() {
        return running;
    }

    public Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", superuser);
        if (socketOnly) {
            p.setProperty("socketFactory", AFUNIXSocketFactory.FactoryArg.class.getName());
            p.setProperty("socketFactoryArg", socketDir.resolve(".s.PGSQL." + port).toString());
            p.setProperty("sslmode", "disable");
            return DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/" + DATABASE, p);
        }
        p.setProperty("password", password);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE, p);
    }

    public void execute(String... statements) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }

    /** The first column of the first row, as text (null when there is no row). */
    public String queryString(String sql) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    public long queryLong(String sql) throws SQLException {
        return Long.parseLong(queryString(sql));
    }

    /** Forces a WAL switch after making sure the current segment has a record in it; returns the finished segment's name. */
    public String switchWal() throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("SELECT txid_current()");
            try (ResultSet rs = st.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** Switches to a new WAL segment and waits until the archiver has archived the finished one. */
    public String switchAndAwaitArchived() throws Exception {
        String segment = switchWal();
        await(Duration.ofMinutes(1), "archiving of " + segment, () ->
                queryString("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").compareTo(segment) >= 0);
        return segment;
    }

    /** Polls until {@code condition} holds or {@code limit} passes; for waiting on the archiver. */
    public static void await(Duration limit, String what, CheckedCondition condition) throws Exception {
        Instant deadline = Instant.now().plus(limit);
        while (!condition.holds()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("timed out after " + limit + " waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
    }

    /** Waits until the server answers and has left recovery (a restored copy that promoted). */
    public void awaitPromoted(Duration limit) throws Exception {
        await(limit, "recovery to end and promote in " + dataDir + " (log: " + logFile + ")", () -> {
            try {
                return "f".equals(queryString("SELECT pg_is_in_recovery()"));
            } catch (SQLException e) {
                return false;
            }
        });
    }

    public String log() {
        try {
            return Files.readString(logFile);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (!running) {
            return;
        }
        try {
            run(List.of(programs.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-m", "immediate", "-w",
                    "-t", "60", "stop"), Duration.ofMinutes(2));
        } catch (IOException e) {
            // best effort: the test's temp directory removal follows
        }
        running = false;
    }

    @FunctionalInterface
    public interface CheckedCondition {
        boolean holds() throws Exception;
    }

    /** Runs a program to completion, failing with its output when it fails. */
    public static String run(List<String> command, Duration limit) throws IOException {
        return run(command, limit, Map.of());
    }

    /** As {@link #run(List, Duration)}, with {@code env} added to the inherited environment. */
    public static String run(List<String> command, Duration limit, Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true);
        pb.environment().putAll(env);
        return runBuilt(pb, limit);
    }

    private static String runBuilt(ProcessBuilder pb, Duration limit) throws IOException {
        List<String> command = pb.command();
        Path out = Files.createTempFile("pgcluster-", ".out");
        pb.redirectOutput(out.toFile());
        Process process = pb.start();
        try {
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + limit);
            }
            String output = Files.readString(out);
            if (process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + "):\n" + output);
            }
            return output;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted", e);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    /** A private temporary directory (0700), for tests that need one outside JUnit's @TempDir. */
    public static Path privateTempDir(String prefix) throws IOException {
        return Files.createTempDirectory(prefix, PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
    }

    private static void refuseRoot() {
        if ("root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException("PostgreSQL refuses to run as root: run the tests as an ordinary user"
                    + " (Maven run as root forks the test JVM as 'postgres' through .ci/test-user-jvm/bin/java)");
        }
    }
}
