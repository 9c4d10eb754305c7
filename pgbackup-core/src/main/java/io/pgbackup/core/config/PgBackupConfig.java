package io.pgbackup.core.config;

import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.s3.S3Settings;

import java.nio.file.Path;
import java.util.Map;
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

    /** Every value, validated when the builder built them (see {@link ConfigValues.Draft#validate()}). */
    private final ConfigValues v;

    private PgBackupConfig(ConfigValues values) {
        this.v = values;
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
        return new Builder(new ConfigValues.Draft());
    }

    /** A builder holding this config's values, for deriving a variant. */
    public Builder toBuilder() {
        return new Builder(v.toDraft());
    }

    public Optional<String> user() {
        return Optional.ofNullable(v.user());
    }

    public String requireUser() {
        return ConfigChecks.require(v.user(), PG_USER_NAME, "the PostgreSQL user with REPLICATION privilege");
    }

    /** Whether a password was configured; the password itself only reaches {@link #childEnvironment()} and JDBC. */
    public boolean hasPassword() {
        return v.password() != null;
    }

    /** The password, for the JDBC driver's properties. Never log or print it. */
    public Optional<String> passwordForDriver() {
        return Optional.ofNullable(v.password());
    }

    public Optional<String> database() {
        return Optional.ofNullable(v.database());
    }

    public String requireDatabase() {
        return ConfigChecks.require(v.database(), PG_DB_NAME, "the database to connect to");
    }

    /** PG_HOST as given: a host name or address, or (beginning with {@code /}) a Unix-domain socket directory. */
    public String host() {
        return v.host();
    }

    /**
     * The Unix-domain socket directory when PG_HOST begins with {@code /}, as libpq, psql and
     * pg_basebackup read it; the server's socket in it is {@link #socketPath()}.
     */
    public Optional<Path> socketDirectory() {
        return isSocketDirectory(v.host()) ? Optional.of(Path.of(v.host())) : Optional.empty();
    }

    /** The server's socket file, {@code <dir>/.s.PGSQL.<port>}, when PG_HOST is a socket directory. */
    public Optional<Path> socketPath() {
        return socketDirectory().map(dir -> ConfigChecks.socketFile(dir, v.port()));
    }

    /** Where the server is, for messages: {@code 127.0.0.1:5432} or {@code socket /var/run/postgresql port 5432}. */
    public String serverDescription() {
        return describeServer(v.host(), v.port());
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
        return v.port();
    }

    public Optional<Path> backupDir() {
        return Optional.ofNullable(v.backupDir());
    }

    public Path requireBackupDir() {
        return ConfigChecks.require(v.backupDir(), PG_BACKUP_DIR, "an absolute path for backups, e.g. "
                + "export PG_BACKUP_DIR=$HOME/backups/postgresql");
    }

    public Optional<Path> pgData() {
        return Optional.ofNullable(v.pgData());
    }

    public int retainDays() {
        return v.retainDays();
    }

    public int retainCount() {
        return v.retainCount();
    }

    public int retainWalDays() {
        return v.retainWalDays();
    }

    public Optional<RemoteConfig> remote() {
        return Optional.ofNullable(v.remote());
    }

    public Compression compression() {
        return v.compression();
    }

    public Optional<Path> pgBin() {
        return Optional.ofNullable(v.pgBin());
    }

    /**
     * The S3 bucket ({@code PG_BACKUP_S3_*}): where {@code backup}, {@code sync} and the archive
     * script copy the repository, and what {@code list}, {@code verify} and {@code restore} read
     * when the local repository is gone. No credentials: those come from the AWS SDK's default chain.
     */
    public Optional<S3Settings> s3() {
        return Optional.ofNullable(v.s3());
    }

    /** Where the key that seals the repository's objects comes from (issue 17); {@link EncryptionConfig#none()} by default. */
    public EncryptionConfig encryption() {
        return v.encryption();
    }

    /** How WAL is archived and fetched: the archiver's mode, workers, spool, fetch-ahead. */
    public ArchiverConfig archiver() {
        return v.archiver();
    }

    /** TLS towards PostgreSQL ({@code PG_SSLMODE} and its files), for JDBC and replication connections. */
    public TlsConfig tls() {
        return v.tls();
    }

    /**
     * The settings this config was read from (the environment over the configuration file, with
     * where each value came from); empty for a config made by the builder. Other settings
     * (e.g. {@code check}'s) are read from here, through the same typed readers.
     */
    public EnvSettings settings() {
        return v.settings();
    }

    /** The configuration file the settings were read from ({@code --config}, {@code PG_BACKUP_CONFIG}), if any. */
    public Optional<Path> configFile() {
        return v.settings().configFile();
    }

    /**
     * The variables a libpq child (pg_basebackup, psql) needs: the password travels here, in
     * {@code PGPASSWORD}, never on the command line. Without a configured password the child falls
     * back to the user's own {@code .pgpass}.
     */
    public Map<String, String> childEnvironment() {
        return v.password() == null ? Map.of() : Map.of("PGPASSWORD", v.password());
    }

    @Override
    public String toString() {
        return v.toString();
    }

    /** Mutable builder; {@link #build()} validates once and returns the immutable config. */
    public static final class Builder {
        private final ConfigValues.Draft d;

        private Builder(ConfigValues.Draft draft) {
            this.d = draft;
        }

        public Builder user(String user) {
            d.user = user;
            return this;
        }

        public Builder password(String password) {
            d.password = password;
            return this;
        }

        public Builder database(String database) {
            d.database = database;
            return this;
        }

        public Builder host(String host) {
            d.host = host;
            return this;
        }

        public Builder port(int port) {
            d.port = port;
            return this;
        }

        public Builder backupDir(Path backupDir) {
            d.backupDir = backupDir;
            return this;
        }

        public Builder pgData(Path pgData) {
            d.pgData = pgData;
            return this;
        }

        public Builder retainDays(int retainDays) {
            d.retainDays = retainDays;
            return this;
        }

        public Builder retainCount(int retainCount) {
            d.retainCount = retainCount;
            return this;
        }

        public Builder retainWalDays(int retainWalDays) {
            d.retainWalDays = retainWalDays;
            return this;
        }

        /** Remote sync target; a null or blank host disables remote sync. */
        public Builder remote(String host, String user, String dir, int port) {
            d.remoteHost = host;
            d.remoteUser = user;
            d.remoteDir = dir;
            d.remotePort = port;
            return this;
        }

        /** The SSH program and options for remote sync; null or blank: {@code ssh}. */
        public Builder sshCommand(String sshCommand) {
            d.sshCommand = sshCommand;
            return this;
        }

        public Builder compression(Compression compression) {
            d.compression = compression;
            return this;
        }

        public Builder pgBin(Path pgBin) {
            d.pgBin = pgBin;
            return this;
        }

        /** The S3 bucket for the offsite copy and for recovery from it; null for none. */
        public Builder s3(S3Settings s3) {
            d.s3 = s3;
            return this;
        }

        /** Where the key that seals the repository's objects comes from; default {@link EncryptionConfig#none()}. */
        public Builder encryption(EncryptionConfig encryption) {
            d.encryption = encryption;
            return this;
        }

        /** How WAL is archived and fetched; default {@link ArchiverConfig#defaults()}. */
        public Builder archiver(ArchiverConfig archiver) {
            d.archiver = archiver;
            return this;
        }

        /** TLS towards PostgreSQL; default {@link TlsConfig#defaults()} ({@code prefer}). */
        public Builder tls(TlsConfig tls) {
            d.tls = tls;
            return this;
        }

        /** The settings the values came from, for {@link PgBackupConfig#settings()}; default: none. */
        public Builder settings(EnvSettings settings) {
            d.settings = settings;
            return this;
        }

        public PgBackupConfig build() {
            return new PgBackupConfig(d.validate());
        }
    }
}
