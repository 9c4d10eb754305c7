package io.pgbackup.core.config;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * Every setting pgbackup reads from the environment or a configuration file. A configuration file
 * may hold only these keys, so a misspelt one is refused instead of silently ignored: a class that
 * adds a setting adds its name here, or (outside this package) registers it as an {@link EnvSettings.Names}.
 */
final class SettingNames {
    /** Names a configuration file may not hold: it would hand the password to anyone who can read it. */
    public static final Set<String> SECRETS = Set.of(PgBackupConfig.PG_PASSWORD);

    private static final Set<String> ALL = withRegistered(new LinkedHashSet<>(List.of(
            PgBackupConfig.PG_USER_NAME, PgBackupConfig.PG_PASSWORD, PgBackupConfig.PG_DB_NAME, PgBackupConfig.PG_HOST,
            PgBackupConfig.PG_PORT, PgBackupConfig.PG_BACKUP_DIR, PgBackupConfig.PGDATA,
            PgBackupConfig.PG_BACKUP_RETAIN_DAYS, PgBackupConfig.PG_BACKUP_RETAIN_COUNT, PgBackupConfig.PG_BACKUP_RETAIN_WAL_DAYS,
            PgBackupConfig.PG_BACKUP_REMOTE_HOST, PgBackupConfig.PG_BACKUP_REMOTE_USER, PgBackupConfig.PG_BACKUP_REMOTE_DIR,
            PgBackupConfig.PG_BACKUP_REMOTE_PORT, PgBackupConfig.PG_BACKUP_SSH_COMMAND, PgBackupConfig.PG_BACKUP_COMPRESS,
            PgBackupConfig.PG_BIN,
            PgBackupConfig.PG_BACKUP_S3_BUCKET, PgBackupConfig.PG_BACKUP_S3_PREFIX, PgBackupConfig.PG_BACKUP_S3_REGION,
            PgBackupConfig.PG_BACKUP_S3_ENDPOINT, PgBackupConfig.PG_BACKUP_S3_PATH_STYLE,
            ArchiverConfig.PG_BACKUP_ARCHIVER, ArchiverConfig.PG_BACKUP_ARCHIVER_WORKERS, ArchiverConfig.PG_BACKUP_ARCHIVER_REPO,
            ArchiverConfig.PG_BACKUP_FETCH_AHEAD, ArchiverConfig.PG_BACKUP_ARCHIVER_ACK_TIMEOUT,
            ArchiverConfig.PG_BACKUP_ARCHIVER_IDLE_EXIT,
            EncryptionConfig.PG_BACKUP_ENCRYPTION_KEY_FILE, EncryptionConfig.PG_BACKUP_ENCRYPTION_KEY_COMMAND,
            EncryptionConfig.PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE,
            TlsConfig.PG_SSLMODE, TlsConfig.PG_SSLROOTCERT, TlsConfig.PG_SSLCERT, TlsConfig.PG_SSLKEY)));

    private SettingNames() {
    }

    /**
     * Adds the settings other packages read (io.pgbackup.core.health's), each registered by its
     * owner through {@link EnvSettings.Names}: health depends on config, not the reverse.
     */
    private static Set<String> withRegistered(Set<String> own) {
        for (EnvSettings.Names names : ServiceLoader.load(EnvSettings.Names.class, SettingNames.class.getClassLoader())) {
            own.addAll(names.names());
        }
        return Collections.unmodifiableSet(own);
    }

    /** The known names, in the order status lists them. */
    public static List<String> all() {
        return List.copyOf(ALL);
    }

    public static boolean isKnown(String name) {
        return ALL.contains(name);
    }

    /** The known name closest to {@code name} (a misspelling), if any is close. */
    static String suggestion(String name) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String known : all()) {
            int d = distance(name, known);
            if (d < bestDistance) {
                best = known;
                bestDistance = d;
            }
        }
        return bestDistance <= Math.max(2, name.length() / 4) ? best : null;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
