package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.s3.S3Settings;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything pgbackup needs to know, immutable once built. Built from the environment
 * ({@link #fromEnvironment()}, the spec's variables and defaults) or by {@link #builder()} when
 * embedding. Malformed values are rejected when the config is built; a value that only some
 * commands need (the database user, PGDATA) is demanded by those commands through the
 * {@code require...} accessors, so {@code list} does not ask for a password.
 *
 * <p>{@link #toString()} masks the password; no accessor hands it to anything but a child
 * process environment or the JDBC driver.
 */
public final class PgBackupConfig {
    public static final String PG_USER_NAME = "PG_USER_NAME";
    public static final String PG_PASSWORD = "PG_PASSWORD";
    public static final String PG_DB_NAME = "PG_DB_NAME";
    public static final String PG_HOST = "PG_HOST";
    public static final String PG_PORT = "PG_PORT";
    public static final String PG_BACKUP_DIR = "PG_BACKUP_DIR";
    public static final String PGDATA = "PGDATA";
    public static final String PG_BACKUP_RETAIN_DAYS = "PG_BACKUP_RETAIN_DAYS";
    public static final String PG_BACKUP_RETAIN_COUNT = "PG_BACKUP_RETAIN_COUNT";
    public static final String PG_BACKUP_RETAIN_WAL_DAYS = "PG_BACKUP_RETAIN_WAL_DAYS";
    public static final String PG_BACKUP_REMOTE_HOST = "PG_BACKUP_REMOTE_HOST";
    public static final String PG_BACKUP_REMOTE_USER = "PG_BACKUP_REMOTE_USER";
    public static final String PG_BACKUP_REMOTE_DIR = "PG_BACKUP_REMOTE_DIR";
    public static final String PG_BACKUP_REMOTE_PORT = "PG_BACKUP_REMOTE_PORT";
    /** Optional, not in the spec: the SSH program and options for remote sync (default {@code ssh}). */
    public static final String PG_BACKUP_SSH_COMMAND = "PG_BACKUP_SSH_COMMAND";
    public static final String PG_BACKUP_COMPRESS = "PG_BACKUP_COMPRESS";
    public static final String PG_BIN = "PG_BIN";
    /** Optional: an S3 bucket for the offsite copy, and the repository to recover from when the local one is gone. */
    public static final String PG_BACKUP_S3_BUCKET = "PG_BACKUP_S3_BUCKET";
    public static final String PG_BACKUP_S3_PREFIX = "PG_BACKUP_S3_PREFIX";
    public static final String PG_BACKUP_S3_REGION = "PG_BACKUP_S3_REGION";
    public static final String PG_BACKUP_S3_ENDPOINT = "PG_BACKUP_S3_ENDPOINT";
    public static final String PG_BACKUP_S3_PATH_STYLE = "PG_BACKUP_S3_PATH_STYLE";
    /** The region when {@link #PG_BACKUP_S3_REGION} is not set (S3-compatible servers accept it). */
    public static final String DEFAULT_S3_REGION = "us-east-1";

    private final String user;
    private final String password;
    private final String database;
    private final String host;
    private final int port;
    private final Path backupDir;
    private final Path pgData;
    private final int retainDays;
    private final int retainCount;
    private final int retainWalDays;
    private final RemoteConfig remote;
    private final Compression compression;
    private final Path pgBin;
    private final S3Settings s3;
    private final ArchiverConfig archiver;
    private final TlsConfig tls;

    private PgBackupConfig(Builder b) {
        this.archiver = Objects.requireNonNull(b.archiver, "archiver");
        this.tls = Objects.requireNonNull(b.tls, "tls");
        this.user = blankToNull(b.user);
        this.password = b.password == null || b.password.isEmpty() ? null : b.password;
        this.database = blankToNull(b.database);
        this.host = checkHost(b.host == null || b.host.isBlank() ? "127.0.0.1" : b.host.strip());
        this.port = checkPort(PG_PORT, b.port);
        if (isSocketDirectory(host)) {
            checkSocketPathLength(Path.of(host), port);
        }
        this.backupDir = b.backupDir == null ? null : checkAbsolute(PG_BACKUP_DIR, b.backupDir);
        this.pgData = b.pgData == null ? null : checkAbsolute(PGDATA, b.pgData);
        this.retainDays = checkNonNegative(PG_BACKUP_RETAIN_DAYS, b.retainDays);
        this.retainCount = checkNonNegative(PG_BACKUP_RETAIN_COUNT, b.retainCount);
        this.retainWalDays = checkNonNegative(PG_BACKUP_RETAIN_WAL_DAYS, b.retainWalDays);
        this.compression = Objects.requireNonNull(b.compression, "compression");
        this.pgBin = b.pgBin == null ? null : checkAbsolute(PG_BIN, b.pgBin);
        this.s3 = b.s3;
        if (archiver.bucketOnly() && s3 == null) {
            throw invalid(ArchiverConfig.PG_BACKUP_ARCHIVER_REPO + "=s3 needs a bucket: set " + PG_BACKUP_S3_BUCKET
                    + " (and PG_BACKUP_S3_ENDPOINT for a server other than AWS)");
        }
        if (b.remoteHost == null || b.remoteHost.isBlank()) {
            this.remote = null;
        } else {
            String remoteUser = b.remoteUser == null || b.remoteUser.isBlank()
                    ? System.getProperty("user.name") : b.remoteUser;
            String remoteDir = b.remoteDir == null || b.remoteDir.isBlank()
                    ? (backupDir == null ? null : backupDir.toString()) : b.remoteDir;
            if (remoteDir == null) {
                throw invalid(PG_BACKUP_REMOTE_DIR + " is not set and there is no " + PG_BACKUP_DIR
                        + " to default to: set " + PG_BACKUP_DIR);
            }
            // ssh and rsync would read a leading '-' as one of their options (-oProxyCommand=...).
            if (b.remoteHost.startsWith("-")) {
                throw invalid(PG_BACKUP_REMOTE_HOST + " '" + b.remoteHost + "' begins with '-', which ssh and rsync would take"
                        + " as an option: give a host name or address");
            }
            if (remoteUser.startsWith("-")) {
                throw invalid(PG_BACKUP_REMOTE_USER + " '" + remoteUser + "' begins with '-', which ssh and rsync would take"
                        + " as an option: give a user name");
            }
            if (b.sshCommand != null && b.sshCommand.chars().anyMatch(Character::isISOControl)) {
                throw invalid(PG_BACKUP_SSH_COMMAND + " contains a control character (newline, tab): use one line");
            }
            this.remote = new RemoteConfig(b.remoteHost, remoteUser, remoteDir,
                    checkPort(PG_BACKUP_REMOTE_PORT, b.remotePort), b.sshCommand);
        }
    }

    /** Reads the process environment. */
    public static PgBackupConfig fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** Reads the spec's variables from {@code env}; unset optional ones take the spec's defaults. */
    public static PgBackupConfig fromEnvironment(Map<String, String> env) {
        Builder b = builder()
                .user(env.get(PG_USER_NAME))
                .password(env.get(PG_PASSWORD))
                .database(env.get(PG_DB_NAME))
                .host(env.get(PG_HOST))
                .port(parseInt(env, PG_PORT, 5432))
                .retainDays(parseInt(env, PG_BACKUP_RETAIN_DAYS, 7))
                .retainCount(parseInt(env, PG_BACKUP_RETAIN_COUNT, 3))
                .retainWalDays(parseInt(env, PG_BACKUP_RETAIN_WAL_DAYS, 14))
                .remote(env.get(PG_BACKUP_REMOTE_HOST), env.get(PG_BACKUP_REMOTE_USER),
                        env.get(PG_BACKUP_REMOTE_DIR), parseInt(env, PG_BACKUP_REMOTE_PORT, 22))
                .sshCommand(env.get(PG_BACKUP_SSH_COMMAND));
        b.backupDir = parsePath(env, PG_BACKUP_DIR);
        b.pgData = parsePath(env, PGDATA);
        b.pgBin = parsePath(env, PG_BIN);
        String compress = env.get(PG_BACKUP_COMPRESS);
        if (compress != null && !compress.isBlank()) {
            b.compression(Compression.parse(PG_BACKUP_COMPRESS, compress));
        }
        b.s3 = S3Config.fromEnvironment(env);
        b.archiver = ArchiverConfig.fromEnvironment(env);
        b.tls = TlsConfig.fromEnvironment(env);
        return b.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this config's values, for deriving a variant. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.user = user;
        b.password = password;
        b.database = database;
        b.host = host;
        b.port = port;
        b.backupDir = backupDir;
        b.pgData = pgData;
        b.retainDays = retainDays;
        b.retainCount = retainCount;
        b.retainWalDays = retainWalDays;
        b.compression = compression;
        b.pgBin = pgBin;
        b.s3 = s3;
        b.archiver = archiver;
        b.tls = tls;
        if (remote != null) {
            b.remoteHost = remote.host();
            b.remoteUser = remote.user();
            b.remoteDir = remote.dir();
            b.remotePort = remote.port();
            b.sshCommand = remote.sshCommand();
        }
        return b;
    }

    public Optional<String> user() {
        return Optional.ofNullable(user);
    }

    public String requireUser() {
        return require(user, PG_USER_NAME, "the PostgreSQL user with REPLICATION privilege");
    }

    /** Whether a password was configured; the password itself only reaches {@link #childEnvironment()} and JDBC. */
    public boolean hasPassword() {
        return password != null;
    }

    /** The password, for the JDBC driver's properties. Never log or print it. */
    public Optional<String> passwordForDriver() {
        return Optional.ofNullable(password);
    }

    public Optional<String> database() {
        return Optional.ofNullable(database);
    }

    public String requireDatabase() {
        return require(database, PG_DB_NAME, "the database to connect to");
    }

    /** PG_HOST as given: a host name or address, or (beginning with {@code /}) a Unix-domain socket directory. */
    public String host() {
        return host;
    }

    /**
     * The Unix-domain socket directory when PG_HOST begins with {@code /}, as libpq, psql and
     * pg_basebackup read it; the server's socket in it is {@link #socketPath()}.
     */
    public Optional<Path> socketDirectory() {
        return isSocketDirectory(host) ? Optional.of(Path.of(host)) : Optional.empty();
    }

    /** The server's socket file, {@code <dir>/.s.PGSQL.<port>}, when PG_HOST is a socket directory. */
    public Optional<Path> socketPath() {
        return socketDirectory().map(dir -> socketFile(dir, port));
    }

    /** Where the server is, for messages: {@code 127.0.0.1:5432} or {@code socket /var/run/postgresql port 5432}. */
    public String serverDescription() {
        return describeServer(host, port);
    }

    /** As {@link #serverDescription()}, for a host and port reported elsewhere (e.g. a status summary). */
    public static String describeServer(String host, int port) {
        if (host != null && isSocketDirectory(host)) {
            return "socket " + host + " port " + port;
        }
        String h = host != null && host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return h + ":" + port;
    }

    /** Whether {@code host} names a Unix-domain socket directory (begins with {@code /}), as in libpq. */
    public static boolean isSocketDirectory(String host) {
        return host.startsWith("/");
    }

    public int port() {
        return port;
    }

    public Optional<Path> backupDir() {
        return Optional.ofNullable(backupDir);
    }

    public Path requireBackupDir() {
        if (backupDir == null) {
            throw invalid(PG_BACKUP_DIR + " is not set: set it to an absolute path for backups, e.g. "
                    + "export PG_BACKUP_DIR=$HOME/backups/postgresql");
        }
        return backupDir;
    }

    public Optional<Path> pgData() {
        return Optional.ofNullable(pgData);
    }

    public int retainDays() {
        return retainDays;
    }

    public int retainCount() {
        return retainCount;
    }

    public int retainWalDays() {
        return retainWalDays;
    }

    public Optional<RemoteConfig> remote() {
        return Optional.ofNullable(remote);
    }

    public Compression compression() {
        return compression;
    }

    public Optional<Path> pgBin() {
        return Optional.ofNullable(pgBin);
    }

    /**
     * The S3 bucket ({@code PG_BACKUP_S3_*}): where {@code backup}, {@code sync} and the archive
     * script copy the repository, and what {@code list}, {@code verify} and {@code restore} read
     * when the local repository is gone. No credentials: those come from the AWS SDK's default chain.
     */
    public Optional<S3Settings> s3() {
        return Optional.ofNullable(s3);
    }

    /** How WAL is archived and fetched: the archiver's mode, workers, spool, fetch-ahead. */
    public ArchiverConfig archiver() {
        return archiver;
    }

    /** TLS towards PostgreSQL ({@code PG_SSLMODE} and its files), for JDBC and replication connections. */
    public TlsConfig tls() {
        return tls;
    }

    /**
     * The variables a libpq child (pg_basebackup, psql) needs: the password travels here, in
     * {@code PGPASSWORD}, never on the command line. Without a configured password the child falls
     * back to the user's own {@code .pgpass}.
     */
    public Map<String, String> childEnvironment() {
        return password == null ? Map.of() : Map.of("PGPASSWORD", password);
    }

    @Override
    public String toString() {
        return "PgBackupConfig{user=" + user + ", password=" + (password == null ? "(not set)" : "****")
                + ", database=" + database + ", host=" + host + ", port=" + port
                + ", backupDir=" + backupDir + ", pgData=" + pgData + ", retainDays=" + retainDays
                + ", retainCount=" + retainCount + ", retainWalDays=" + retainWalDays
                + ", remote=" + remote + ", compression=" + compression
                + ", s3=" + (s3 == null ? null : s3.location()) + ", sslmode=" + tls.mode().value() + "}";
    }

    private static String require(String value, String variable, String what) {
        if (value == null) {
            throw invalid(variable + " is not set: set it to " + what);
        }
        return value;
    }

    private static PgBackupException invalid(String message) {
        return new PgBackupException(ErrorCode.INVALID_CONFIG, message);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static int parseInt(Map<String, String> env, String variable, int fallback) {
        String raw = env.get(variable);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(raw.trim());
        } catch (NumberFormatException e) {
            throw invalid(variable + "='" + raw + "' is not a whole number: set it to e.g. " + fallback);
        }
    }

    private static Path parsePath(Map<String, String> env, String variable) {
        String raw = env.get(variable);
        if (raw == null || raw.isBlank()) {
            return null;
        }
        Path path = Path.of(raw);
        checkAbsolute(variable, path);
        return path;
    }

    private static Path checkAbsolute(String variable, Path path) {
        if (!path.isAbsolute()) {
            throw invalid(variable + "='" + path + "' is a relative path: use an absolute path, e.g. "
                    + Path.of(path.toString()).toAbsolutePath().normalize());
        }
        return path.normalize();
    }

    /** Linux's sun_path holds 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH_BYTES = 107;

    private static Path socketFile(Path dir, int port) {
        return dir.resolve(".s.PGSQL." + port);
    }

    private static String checkHost(String host) {
        if (host.chars().anyMatch(Character::isISOControl)) {
            throw invalid(PG_HOST + " contains a control character (newline, tab): set it to a host name, an address"
                    + " or a socket directory such as /var/run/postgresql");
        }
        // A socket directory as libpq takes it; normalized so messages and the socket path agree.
        return isSocketDirectory(host) ? Path.of(host).normalize().toString() : host;
    }

    private static void checkSocketPathLength(Path dir, int port) {
        String socket = socketFile(dir, port).toString();
        int bytes = socket.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > MAX_SOCKET_PATH_BYTES) {
            throw invalid(PG_HOST + "='" + dir + "' is too long for a socket directory: " + socket + " is " + bytes
                    + " bytes, a Unix socket path holds at most " + MAX_SOCKET_PATH_BYTES
                    + "; use a shorter directory in unix_socket_directories and PG_HOST");
        }
    }

    private static int checkPort(String variable, int port) {
        if (port < 1 || port > 65535) {
            throw invalid(variable + "=" + port + " is not a TCP port: use a number from 1 to 65535");
        }
        return port;
    }

    private static int checkNonNegative(String variable, int value) {
        if (value < 0) {
            throw invalid(variable + "=" + value + " is negative: use 0 or more");
        }
        return value;
    }

    /** Mutable builder; {@link #build()} validates once and returns the immutable config. */
    public static final class Builder {
        private String user;
        private String password;
        private String database;
        private String host;
        private int port = 5432;
        private Path backupDir;
        private Path pgData;
        private int retainDays = 7;
        private int retainCount = 3;
        private int retainWalDays = 14;
        private String remoteHost;
        private String remoteUser;
        private String remoteDir;
        private int remotePort = 22;
        private String sshCommand;
        private Compression compression = Compression.DEFAULT;
        private Path pgBin;
        private S3Settings s3;
        private ArchiverConfig archiver = ArchiverConfig.defaults();
        private TlsConfig tls = TlsConfig.defaults();

        private Builder() {
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        public Builder password(String password) {
            this.password = password;
            return this;
        }

        public Builder database(String database) {
            this.database = database;
            return this;
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder backupDir(Path backupDir) {
            this.backupDir = backupDir;
            return this;
        }

        public Builder pgData(Path pgData) {
            this.pgData = pgData;
            return this;
        }

        public Builder retainDays(int retainDays) {
            this.retainDays = retainDays;
            return this;
        }

        public Builder retainCount(int retainCount) {
            this.retainCount = retainCount;
            return this;
        }

        public Builder retainWalDays(int retainWalDays) {
            this.retainWalDays = retainWalDays;
            return this;
        }

        /** Remote sync target; a null or blank host disables remote sync. */
        public Builder remote(String host, String user, String dir, int port) {
            this.remoteHost = host;
            this.remoteUser = user;
            this.remoteDir = dir;
            this.remotePort = port;
            return this;
        }

        /** The SSH program and options for remote sync; null or blank: {@code ssh}. */
        public Builder sshCommand(String sshCommand) {
            this.sshCommand = sshCommand;
            return this;
        }

        public Builder compression(Compression compression) {
            this.compression = compression;
            return this;
        }

        public Builder pgBin(Path pgBin) {
            this.pgBin = pgBin;
            return this;
        }

        /** The S3 bucket for the offsite copy and for recovery from it; null for none. */
        public Builder s3(S3Settings s3) {
            this.s3 = s3;
            return this;
        }

        /** How WAL is archived and fetched; default {@link ArchiverConfig#defaults()}. */
        public Builder archiver(ArchiverConfig archiver) {
            this.archiver = archiver;
            return this;
        }

        /** TLS towards PostgreSQL; default {@link TlsConfig#defaults()} ({@code prefer}). */
        public Builder tls(TlsConfig tls) {
            this.tls = tls;
            return this;
        }

        public PgBackupConfig build() {
            return new PgBackupConfig(this);
        }
    }
}
