package io.pgbackup.core.config;

import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.s3.S3Settings;

import java.nio.file.Path;
import java.util.Objects;

import static io.pgbackup.core.config.PgBackupConfig.PGDATA;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_DIR;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_RETAIN_COUNT;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_RETAIN_DAYS;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_RETAIN_WAL_DAYS;
import static io.pgbackup.core.config.PgBackupConfig.PG_BIN;
import static io.pgbackup.core.config.PgBackupConfig.PG_PORT;

/**
 * The values behind a {@link PgBackupConfig}, validated once by {@link Draft#validate()}. Package
 * private so the API stays the config and its builder (an API type may not use {@code internal}).
 * {@link #toString()} masks the password, as the config's does.
 */
record ConfigValues(String user, String password, String database, String host, int port, Path backupDir,
                    Path pgData, int retainDays, int retainCount, int retainWalDays, RemoteConfig remote,
                    Compression compression, Path pgBin, S3Settings s3, ArchiverConfig archiver, TlsConfig tls,
                    EncryptionConfig encryption, EnvSettings settings) {

    @Override
    public String toString() {
        return "PgBackupConfig{user=" + user + ", password=" + (password == null ? "(not set)" : "****")
                + ", database=" + database + ", host=" + host + ", port=" + port
                + ", backupDir=" + backupDir + ", pgData=" + pgData + ", retainDays=" + retainDays
                + ", retainCount=" + retainCount + ", retainWalDays=" + retainWalDays
                + ", remote=" + remote + ", compression=" + compression
                + ", s3=" + (s3 == null ? null : s3.location()) + ", sslmode=" + tls.mode().value() + "}";
    }

    /** A draft holding these values, for {@link PgBackupConfig#toBuilder()}. */
    Draft toDraft() {
        Draft d = new Draft();
        d.user = user;
        d.password = password;
        d.database = database;
        d.host = host;
        d.port = port;
        d.backupDir = backupDir;
        d.pgData = pgData;
        d.retainDays = retainDays;
        d.retainCount = retainCount;
        d.retainWalDays = retainWalDays;
        d.compression = compression;
        d.pgBin = pgBin;
        d.s3 = s3;
        d.archiver = archiver;
        d.tls = tls;
        d.encryption = encryption;
        d.settings = settings;
        if (remote != null) {
            d.remoteHost = remote.host();
            d.remoteUser = remote.user();
            d.remoteDir = remote.dir();
            d.remotePort = remote.port();
            d.sshCommand = remote.sshCommand();
        }
        return d;
    }

    /** What {@link PgBackupConfig.Builder} collects, with the spec's defaults. */
    static final class Draft {
        String user;
        String password;
        String database;
        String host;
        int port = 5432;
        Path backupDir;
        Path pgData;
        int retainDays = 7;
        int retainCount = 3;
        int retainWalDays = 14;
        String remoteHost;
        String remoteUser;
        String remoteDir;
        int remotePort = 22;
        String sshCommand;
        Compression compression = Compression.DEFAULT;
        Path pgBin;
        S3Settings s3;
        ArchiverConfig archiver = ArchiverConfig.defaults();
        EncryptionConfig encryption = EncryptionConfig.none();
        TlsConfig tls = TlsConfig.defaults();
        EnvSettings settings = EnvSettings.empty();

        /** Every check, in the order the messages name them; a refusal is one line naming its variable. */
        ConfigValues validate() {
            Objects.requireNonNull(settings, "settings");
            Objects.requireNonNull(archiver, "archiver");
            Objects.requireNonNull(tls, "tls");
            Objects.requireNonNull(encryption, "encryption");
            String checkedHost = ConfigChecks.checkHost(host == null || host.isBlank() ? "127.0.0.1" : host.strip());
            int checkedPort = ConfigChecks.checkPort(PG_PORT, port);
            if (PgBackupConfig.isSocketDirectory(checkedHost)) {
                ConfigChecks.checkSocketPathLength(Path.of(checkedHost), checkedPort);
            }
            Path dir = backupDir == null ? null : ConfigChecks.checkAbsolute(PG_BACKUP_DIR, backupDir);
            Path data = pgData == null ? null : ConfigChecks.checkAbsolute(PGDATA, pgData);
            int days = ConfigChecks.checkNonNegative(PG_BACKUP_RETAIN_DAYS, retainDays);
            int count = ConfigChecks.checkNonNegative(PG_BACKUP_RETAIN_COUNT, retainCount);
            int walDays = ConfigChecks.checkNonNegative(PG_BACKUP_RETAIN_WAL_DAYS, retainWalDays);
            Objects.requireNonNull(compression, "compression");
            Path bin = pgBin == null ? null : ConfigChecks.checkAbsolute(PG_BIN, pgBin);
            ConfigChecks.checkArchiverRepository(archiver, s3);
            RemoteConfig checkedRemote = ConfigChecks.remote(remoteHost, remoteUser, remoteDir, remotePort, sshCommand, dir);
            return new ConfigValues(ConfigChecks.blankToNull(user), password == null || password.isEmpty() ? null : password,
                    ConfigChecks.blankToNull(database), checkedHost, checkedPort, dir, data, days, count, walDays,
                    checkedRemote, compression, bin, s3, archiver, tls, encryption, settings);
        }
    }
}
