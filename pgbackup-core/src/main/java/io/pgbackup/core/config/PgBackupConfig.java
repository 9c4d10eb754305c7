package io.pgbackup.core.config;

import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.s3.S3Settings;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything pgbackup needs to know, immutable once built. Built from the environment
 * ({@link #fromEnvironment()}, the spec's variables and defaults, over an optional configuration
 * file, read by {@link EnvSettings}) or by {@link #builder()} when
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
    private final EncryptionConfig encryption;
    private final EnvSettings settings;

    private PgBackupConfig(Builder b) {
        this.settings = Objects.requireNonNull(b.settings, "settings");
        this.archiver = Objects.requireNonNull(b.archiver, "archiver");
        this.tls = Objects.requireNonNull(b.tls, "tls");
        this.encryption = Objects.requireNonNull(b.encryption, "encryption");
        this.user = ConfigChecks.blankToNull(b.user);
        this.password = b.password == null || b.password.isEmpty() ? null : b.password;
        this.database = ConfigChecks.blankToNull(b.database);
        this.host = ConfigChecks.checkHost(b.host == null || b.host.isBlank() ? "127.0.0.1" : b.host.strip());
        this.port = ConfigChecks.checkPort(PG_PORT, b.port);
        if (isSocketDirectory(host)) {
            ConfigChecks.checkSocketPathLength(Path.of(host), port);
        }
        this.backupDir = b.backupDir == null ? null : ConfigChecks.checkAbsolute(PG_BACKUP_DIR, b.backupDir);
        this.pgData = b.pgData == null ? null : ConfigChecks.checkAbsolute(PGDATA, b.pgData);
        this.retainDays = ConfigChecks.checkNonNegative(PG_BACKUP_RETAIN_DAYS, b.retainDays);
        this.retainCount = ConfigChecks.checkNonNegative(PG_BACKUP_RETAIN_COUNT, b.retainCount);
        this.retainWalDays = ConfigChecks.checkNonNegative(PG_BACKUP_RETAIN_WAL_DAYS, b.retainWalDays);
        this.compression = Objects.requireNonNull(b.compression, "compression");
        this.pgBin = b.pgBin == null ? null : ConfigChecks.checkAbsolute(PG_BIN, b.pgBin);
        this.s3 = b.s3;
        ConfigChecks.checkArchiverRepository(archiver, s3);
        this.remote = ConfigChecks.remote(b.remoteHost, b.remoteUser, b.remoteDir, b.remotePort, b.sshCommand, backupDir);
    }

    /** Reads the process environment (and the configuration file {@code PG_BACKUP_CONFIG} names, if any). */
    public static PgBackupConfig fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * Reads the spec's variables from {@code env}, over the configuration file its
     * {@code PG_BACKUP_CONFIG} names, if any; unset optional ones take the spec's defaults.
     */
    public static PgBackupConfig fromEnvironment(Map<String, String> env) {
        return fromSettings(EnvSettings.load(env, null));
    }

    /** Reads {@code settings} (the environment over a configuration file, see {@link EnvSettings#load}). */
    public static PgBackupConfig fromSettings(EnvSettings settings) {
        return ConfigReader.read(settings);
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
        b.encryption = encryption;
        b.settings = settings;
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
        return ConfigChecks.require(user, PG_USER_NAME, "the PostgreSQL user with REPLICATION privilege");
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
        return ConfigChecks.require(database, PG_DB_NAME, "the database to connect to");
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
        return socketDirectory().map(dir -> ConfigChecks.socketFile(dir, port));
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
        return ConfigChecks.require(backupDir, PG_BACKUP_DIR, "an absolute path for backups, e.g. "
                + "export PG_BACKUP_DIR=$HOME/backups/postgresql");
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

    /** Where the key that seals the repository's objects comes from (issue 17); {@link EncryptionConfig#none()} by default. */
    public EncryptionConfig encryption() {
        return encryption;
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
     * The settings this config was read from (the environment over the configuration file, with
     * where each value came from); empty for a config made by the builder. Other settings
     * (e.g. {@code check}'s) are read from here, through the same typed readers.
     */
    public EnvSettings settings() {
        return settings;
    }

    /** The configuration file the settings were read from ({@code --config}, {@code PG_BACKUP_CONFIG}), if any. */
    public Optional<Path> configFile() {
        return settings.configFile();
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
        private EncryptionConfig encryption = EncryptionConfig.none();
        private TlsConfig tls = TlsConfig.defaults();
        private EnvSettings settings = EnvSettings.empty();

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
        public Builder encryption(EncryptionConfig encryption) {
            this.encryption = encryption;
            return this;
        }

        public Builder archiver(ArchiverConfig archiver) {
            this.archiver = archiver;
            return this;
        }

        /** TLS towards PostgreSQL; default {@link TlsConfig#defaults()} ({@code prefer}). */
        public Builder tls(TlsConfig tls) {
            this.tls = tls;
            return this;
        }

        /** The settings the values came from, for {@link PgBackupConfig#settings()}; default: none. */
        public Builder settings(EnvSettings settings) {
            this.settings = settings;
            return this;
        }

        public PgBackupConfig build() {
            return new PgBackupConfig(this);
        }
    }
}
