package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.storage.Compression;

/** Settings to {@link PgBackupConfig}: the spec's variables and defaults, each group read by its own class. */
final class ConfigReader {
    private ConfigReader() {
    }

    static PgBackupConfig read(EnvSettings env) {
        try {
            PgBackupConfig.Builder b = PgBackupConfig.builder()
                    .user(env.get(PgBackupConfig.PG_USER_NAME))
                    .password(env.get(PgBackupConfig.PG_PASSWORD))
                    .database(env.get(PgBackupConfig.PG_DB_NAME))
                    .host(env.get(PgBackupConfig.PG_HOST))
                    .port(env.integer(PgBackupConfig.PG_PORT, 5432))
                    .retainDays(env.integer(PgBackupConfig.PG_BACKUP_RETAIN_DAYS, 7))
                    .retainCount(env.integer(PgBackupConfig.PG_BACKUP_RETAIN_COUNT, 3))
                    .retainWalDays(env.integer(PgBackupConfig.PG_BACKUP_RETAIN_WAL_DAYS, 14))
                    .remote(env.get(PgBackupConfig.PG_BACKUP_REMOTE_HOST), env.get(PgBackupConfig.PG_BACKUP_REMOTE_USER),
                            env.get(PgBackupConfig.PG_BACKUP_REMOTE_DIR), env.integer(PgBackupConfig.PG_BACKUP_REMOTE_PORT, 22))
                    .sshCommand(env.get(PgBackupConfig.PG_BACKUP_SSH_COMMAND))
                    .backupDir(env.absolutePath(PgBackupConfig.PG_BACKUP_DIR))
                    .pgData(env.absolutePath(PgBackupConfig.PGDATA))
                    .pgBin(env.absolutePath(PgBackupConfig.PG_BIN));
            String compress = env.string(PgBackupConfig.PG_BACKUP_COMPRESS);
            if (compress != null) {
                b.compression(Compression.parse(PgBackupConfig.PG_BACKUP_COMPRESS, compress));
            }
            return b.s3(S3Config.fromSettings(env))
                    .archiver(ArchiverConfig.fromSettings(env))
                    .tls(TlsConfig.fromSettings(env))
                    .encryption(EncryptionConfig.fromSettings(env))
                    .settings(env)
                    .build();
        } catch (PgBackupException e) {
            throw withOrigin(env, e);
        }
    }

    /**
     * The messages of the checks in the groups begin with the variable they are about; when the
     * configuration file set it, say where, so the user edits the right line.
     */
    private static PgBackupException withOrigin(EnvSettings env, PgBackupException e) {
        String message = e.getMessage();
        if (e.code() != ErrorCode.INVALID_CONFIG || message == null || message.contains(" (set in ")) {
            return e;
        }
        int end = 0;
        while (end < message.length() && (Character.isUpperCase(message.charAt(end)) || message.charAt(end) == '_'
                || Character.isDigit(message.charAt(end)))) {
            end++;
        }
        String where = env.where(message.substring(0, end));
        return where.isEmpty() ? e : new PgBackupException(e.code(), message + where, e);
    }
}
