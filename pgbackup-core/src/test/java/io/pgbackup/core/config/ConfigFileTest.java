package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The configuration file's syntax (systemd's EnvironmentFile= subset), its layering under the environment, and its secret check. */
class ConfigFileTest {
    @TempDir
    Path work;

    private Path file(String text, String mode) throws Exception {
        Path f = work.resolve("db1.env");
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void readsCommentsBlankLinesAndQuotedValuesAsSystemdDoes() throws Exception {
        Path f = file("""
                # cluster db1
                ; also a comment

                PG_BACKUP_DIR=/var/backups/db1
                  PG_PORT = 5433\s\s
                PG_BACKUP_SSH_COMMAND='ssh -i /home/me/.ssh/key # not a comment'
                PG_DB_NAME="app \\"main\\" \\\\ \\$HOME"
                PG_HOST=
                PG_BACKUP_S3_PREFIX=db1/pgbackup\r
                """, "rw-r--r--");
        ConfigFile parsed = ConfigFile.read(f);
        assertThat(parsed.path()).isEqualTo(f.toRealPath());
        assertThat(parsed.values()).containsExactly(Map.entry("PG_BACKUP_DIR", "/var/backups/db1"), Map.entry("PG_PORT", "5433"),
                Map.entry("PG_BACKUP_SSH_COMMAND", "ssh -i /home/me/.ssh/key # not a comment"),
                Map.entry("PG_DB_NAME", "app \"main\" \\ $HOME"), Map.entry("PG_HOST", ""),
                Map.entry("PG_BACKUP_S3_PREFIX", "db1/pgbackup"));
        assertThat(parsed.line("PG_PORT")).isEqualTo(5);
    }

    @Test
    void aBadLineIsOneMessageWithItsLineNumberAndNeverItsText() {
        Path f = work.resolve("bad.env");
        assertThat(refusal(f, "PG_PORT=5432\nPG_PASSWORD hunter2\n"))
                .isEqualTo(f + " line 2 is not a KEY=value line: write one KEY=value a line, e.g. PG_PORT=5432")
                .doesNotContain("hunter2");
        assertThat(refusal(f, "export PG_PORT=5432\n")).isEqualTo(f + " line 1 is not a KEY=value line: drop 'export' (write KEY=value)");
        assertThat(refusal(f, "PG_PASSWORD='hunter2\n")).isEqualTo(f + " line 1: the value of PG_PASSWORD has no closing single quote:"
                + " end it on the same line");
        assertThat(refusal(f, "PG_HOST=\"db\"x\n")).contains("line 1: the value of PG_HOST has text after its closing quote");
        assertThat(refusal(f, "PG_BACKUP_DIR=/x \\\n/y\n")).contains("line 1: the value of PG_BACKUP_DIR continues on the next line");
        assertThat(refusal(f, "PG_BACKUP_DIR=/x # backups\n")).contains("line 1: the value of PG_BACKUP_DIR has a '#' after a blank");
        assertThat(refusal(f, "PG_PORT=1\n\nPG_PORT=2\n")).isEqualTo(f + " line 3: PG_PORT is already set on line 1: keep one of them");
    }

    @Test
    void unknownKeysAreRefusedWithASuggestion() {
        Path f = work.resolve("keys.env");
        assertThat(refusal(f, "PG_BACKUP_RETAIN_DAY=3\n"))
                .isEqualTo(f + " line 1: PG_BACKUP_RETAIN_DAY is not a pgbackup setting: did you mean PG_BACKUP_RETAIN_DAYS?");
        assertThat(refusal(f, "PGPASSWORD=x\n")).endsWith("PGPASSWORD is not a pgbackup setting: did you mean PG_PASSWORD?");
        assertThat(refusal(f, "AWS_SECRET_ACCESS_KEY=x\n")).endsWith("AWS_SECRET_ACCESS_KEY is not a pgbackup setting: the file holds only"
                + " pgbackup's settings (see 'Configuration' in the README); set other variables in the environment");
        assertThat(refusal(f, "PG_BACKUP_CONFIG=/etc/other.env\n")).contains("cannot be set in a configuration file");
    }

    @Test
    void thePasswordIsRefusedInAFileOthersMayRead() throws Exception {
        Path f = file("PG_USER_NAME=backup\nPG_PASSWORD=hunter2\n", "rw-r--r--");
        assertThatThrownBy(() -> ConfigFile.read(f)).isInstanceOf(PgBackupException.class)
                .hasMessage(f.toRealPath() + " holds PG_PASSWORD but group or others may read it (rw-r--r--): chmod 600 "
                        + f.toRealPath() + ", or keep the password in ~/.pgpass")
                .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(ErrorCode.INVALID_CONFIG));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        assertThatThrownBy(() -> ConfigFile.read(f)).hasMessageContaining("group or others may read it");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        assertThat(ConfigFile.read(f).values()).containsEntry("PG_PASSWORD", "hunter2");
        assertThatThrownBy(() -> ConfigFile.read(work.resolve("missing.env"))).hasMessageContaining("does not exist");
    }

    @Test
    void theEnvironmentWinsEvenWhenEmptyAndEachSourceIsReported() throws Exception {
        Path f = file("PG_BACKUP_DIR=/var/backups/db1\nPG_PORT=5433\nPG_BACKUP_RETAIN_DAYS=9\nPG_PASSWORD=hunter2\n"
                + "PG_BACKUP_S3_BUCKET=from-file\n", "rw-------");
        Map<String, String> env = Map.of(EnvSettings.PG_BACKUP_CONFIG, f.toString(), "PG_PORT", "6000",
                "PG_BACKUP_S3_BUCKET", "");
        PgBackupConfig config = PgBackupConfig.fromEnvironment(env);
        assertThat(config.port()).isEqualTo(6000);
        assertThat(config.retainDays()).isEqualTo(9);
        assertThat(config.requireBackupDir()).isEqualTo(Path.of("/var/backups/db1"));
        assertThat(config.s3()).as("an empty variable in the environment turns the file's bucket off").isEmpty();
        assertThat(config.configFile()).contains(f.toRealPath());
        EnvSettings s = config.settings();
        assertThat(s.source("PG_PORT")).isEqualTo("env");
        assertThat(s.source("PG_BACKUP_DIR")).isEqualTo("file:" + f.toRealPath());
        assertThat(s.source("PG_BACKUP_RETAIN_COUNT")).isEqualTo("default");
        assertThat(s.report()).contains(new EnvSettings.Setting("PG_PASSWORD", "****", "file:" + f.toRealPath()),
                new EnvSettings.Setting("PG_BACKUP_RETAIN_COUNT", null, "default"));
        assertThat(s.report().toString()).doesNotContain("hunter2");
        assertThat(s.environmentForJobs()).containsEntry(EnvSettings.PG_BACKUP_CONFIG, f.toRealPath().toString())
                .doesNotContainKey("PG_PASSWORD");

        // --config wins over PG_BACKUP_CONFIG; without either, no file.
        Path other = work.resolve("other.env");
        Files.writeString(other, "PG_PORT=7000\n");
        assertThat(PgBackupConfig.fromSettings(EnvSettings.load(Map.of(EnvSettings.PG_BACKUP_CONFIG, f.toString()), other)).port())
                .isEqualTo(7000);
        assertThat(EnvSettings.load(Map.of(EnvSettings.PG_BACKUP_CONFIG, " "), null).configFile()).isEmpty();
    }

    @Test
    void aMalformedValueFromTheFileSaysWhereItIsSet() throws Exception {
        Path f = file("PG_BACKUP_DIR=/x\nPG_PORT=fivefour\n", "rw-r--r--");
        assertThatThrownBy(() -> PgBackupConfig.fromEnvironment(Map.of(EnvSettings.PG_BACKUP_CONFIG, f.toString())))
                .hasMessage("PG_PORT='fivefour' is not a whole number: set it to e.g. 5432 (set in " + f.toRealPath() + " line 2)");
        Files.writeString(f, "PG_BACKUP_DIR=relative/dir\n");
        assertThatThrownBy(() -> PgBackupConfig.fromEnvironment(Map.of(EnvSettings.PG_BACKUP_CONFIG, f.toString())))
                .hasMessageStartingWith("PG_BACKUP_DIR='relative/dir' is a relative path").hasMessageEndingWith("line 1)");
        Files.writeString(f, "PG_BACKUP_ARCHIVER_WORKERS=0\n");
        assertThatThrownBy(() -> PgBackupConfig.fromEnvironment(Map.of(EnvSettings.PG_BACKUP_CONFIG, f.toString())))
                .hasMessage("PG_BACKUP_ARCHIVER_WORKERS=0 is out of range: use 1 to 64 (set in " + f.toRealPath() + " line 1)");
        // From the environment, the messages are what they always were.
        assertThatThrownBy(() -> PgBackupConfig.fromEnvironment(Map.of("PG_PORT", "x"))).hasMessage(
                "PG_PORT='x' is not a whole number: set it to e.g. 5432");
        assertThatThrownBy(() -> PgBackupConfig.fromEnvironment(Map.of("PG_BACKUP_ARCHIVER_WORKERS", "x"))).hasMessage(
                "PG_BACKUP_ARCHIVER_WORKERS='x' is not a whole number: set it to e.g. " + ArchiverConfig.defaultWorkers());
    }

    @Test
    void typedReadersNameTheVariable() {
        EnvSettings s = EnvSettings.of(Map.of("A", "15m", "B", "PT2H", "C", "90", "D", "soon", "E", "yes", "F", "maybe"));
        assertThat(s.duration("A", java.time.Duration.ZERO)).hasMinutes(15);
        assertThat(s.duration("B", java.time.Duration.ZERO)).hasHours(2);
        assertThat(s.duration("C", java.time.Duration.ZERO)).hasSeconds(90);
        assertThat(s.duration("X", java.time.Duration.ofSeconds(5))).hasSeconds(5);
        assertThatThrownBy(() -> s.duration("D", java.time.Duration.ofMinutes(1)))
                .hasMessage("D='soon' is not a duration: use seconds or a number with s, m, h or d, e.g. 60s");
        assertThat(s.bool("E", false)).isTrue();
        assertThatThrownBy(() -> s.bool("F", false)).hasMessage("F='maybe' is not true or false");
    }

    /** Every PG_* constant of the config classes is a known setting, so a file may hold it. */
    @Test
    void everySettingConstantIsKnown() throws Exception {
        for (Class<?> cls : new Class<?>[] {PgBackupConfig.class, ArchiverConfig.class, TlsConfig.class}) {
            for (Field field : cls.getFields()) {
                if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class
                        && field.getName().startsWith("PG") && !field.getName().startsWith("DEFAULT")) {
                    assertThat(SettingNames.isKnown((String) field.get(null))).as(field.getName()).isTrue();
                }
            }
        }
    }

    /** Issue 20: health registers its own settings (no copy of their names in config), and a file may hold each. */
    @Test
    void healthRegistersEachOfItsSettings() throws Exception {
        java.util.List<String> constants = new java.util.ArrayList<>();
        for (Class<?> cls : new Class<?>[] {io.pgbackup.core.health.HealthSettings.class,
                io.pgbackup.core.health.HealthSettings.CheckThresholds.class, io.pgbackup.core.health.HealthSettings.NotifySettings.class}) {
            for (Field field : cls.getFields()) {
                if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class && field.getName().startsWith("PG")) {
                    constants.add((String) field.get(null));
                }
            }
        }
        assertThat(io.pgbackup.core.health.HealthSettings.NAMES).containsExactlyInAnyOrderElementsOf(constants);
        assertThat(SettingNames.all()).containsSubsequence(io.pgbackup.core.health.HealthSettings.NAMES);
    }

    @Test
    void theIncrementalChainSettingsAreKnownToAConfigurationFile() {
        assertThat(SettingNames.all()).contains("PG_BACKUP_FULL_INTERVAL_DAYS", "PG_BACKUP_MAX_CHAIN",
                "PG_BACKUP_ENCRYPTION_KEY_FILE", "PG_BACKUP_ENCRYPTION_KEY_COMMAND", "PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE");
    }

    private static String refusal(Path f, String text) {
        try {
            ConfigFile.parse(f, text);
        } catch (PgBackupException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG);
            assertThat(e.getMessage()).doesNotContain("\n");
            return e.getMessage();
        }
        throw new AssertionError("accepted: " + text);
    }
}
