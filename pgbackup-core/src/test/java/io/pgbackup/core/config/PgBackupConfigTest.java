package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.storage.Compression;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The builder's plumbing (the values live in ConfigValues): a variant keeps every value, the password never shows. */
class PgBackupConfigTest {
    @Test
    void toBuilderKeepsEveryValueAndBuildChecksThemOnce() {
        PgBackupConfig config = PgBackupConfig.fromEnvironment(Map.ofEntries(Map.entry("PG_USER_NAME", "rep"),
                Map.entry("PG_PASSWORD", "s3cret-pw"), Map.entry("PG_DB_NAME", "app"), Map.entry("PG_HOST", " db.example.com "),
                Map.entry("PG_PORT", "5433"), Map.entry("PG_BACKUP_DIR", "/srv/backups"), Map.entry("PGDATA", "/srv/data"),
                Map.entry("PG_BACKUP_RETAIN_DAYS", "9"), Map.entry("PG_BACKUP_RETAIN_COUNT", "4"),
                Map.entry("PG_BACKUP_RETAIN_WAL_DAYS", "20"), Map.entry("PG_BACKUP_REMOTE_HOST", "backup.example.com"),
                Map.entry("PG_BACKUP_REMOTE_USER", "pgb"), Map.entry("PG_BACKUP_REMOTE_DIR", "/remote"),
                Map.entry("PG_BACKUP_REMOTE_PORT", "2222"), Map.entry("PG_BACKUP_COMPRESS", "zstd"), Map.entry("PG_BIN", "/opt/pg/bin")));
        PgBackupConfig copy = config.toBuilder().build();
        for (PgBackupConfig c : new PgBackupConfig[] {config, copy}) {
            assertThat(c.user()).contains("rep");
            assertThat(c.passwordForDriver()).contains("s3cret-pw");
            assertThat(c.childEnvironment()).containsEntry("PGPASSWORD", "s3cret-pw");
            assertThat(c.database()).contains("app");
            assertThat(c.host()).isEqualTo("db.example.com");
            assertThat(c.port()).isEqualTo(5433);
            assertThat(c.backupDir()).contains(Path.of("/srv/backups"));
            assertThat(c.pgData()).contains(Path.of("/srv/data"));
            assertThat(c.retainDays()).isEqualTo(9);
            assertThat(c.retainCount()).isEqualTo(4);
            assertThat(c.retainWalDays()).isEqualTo(20);
            assertThat(c.remote()).hasValueSatisfying(r -> assertThat(r.host() + " " + r.user() + " " + r.dir() + " " + r.port())
                    .isEqualTo("backup.example.com pgb /remote 2222"));
            assertThat(c.compression()).isEqualTo(Compression.ZSTD);
            assertThat(c.pgBin()).contains(Path.of("/opt/pg/bin"));
            assertThat(c.settings()).isSameAs(config.settings());
            assertThat(c.toString()).contains("password=****", "user=rep", "port=5433").doesNotContain("s3cret-pw");
        }
        PgBackupConfig variant = config.toBuilder().port(6000).password("").build();
        assertThat(variant.port()).isEqualTo(6000);
        assertThat(variant.hasPassword()).isFalse();
        assertThat(variant.toString()).contains("password=(not set)");
        assertThat(config.port()).as("the original is immutable").isEqualTo(5433);

        assertThatThrownBy(() -> config.toBuilder().retainDays(-1).build())
                .isInstanceOfSatisfying(PgBackupException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG);
                    assertThat(e.getMessage()).startsWith("PG_BACKUP_RETAIN_DAYS");
                });
    }

    @Test
    void theBuilderDefaultsAreTheSpecs() {
        PgBackupConfig config = PgBackupConfig.builder().build();
        assertThat(config.host()).isEqualTo("127.0.0.1");
        assertThat(config.port()).isEqualTo(5432);
        assertThat(config.retainDays()).isEqualTo(7);
        assertThat(config.retainCount()).isEqualTo(3);
        assertThat(config.retainWalDays()).isEqualTo(14);
        assertThat(config.compression()).isEqualTo(Compression.DEFAULT);
        assertThat(config.remote()).isEmpty();
        assertThat(config.user()).isEmpty();
        assertThat(config.encryption()).isEqualTo(EncryptionConfig.none());
        assertThat(config.configFile()).isEmpty();
    }
}
