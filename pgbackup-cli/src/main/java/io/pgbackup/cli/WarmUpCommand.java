package io.pgbackup.cli;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.config.PgBackupConfig;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.Optional;

/**
 * Hidden: touches the classes every real command loads (Jackson, the JDBC driver, tar, picocli's
 * help), so that {@code bin/pgbackup} can record them once in a class-data-sharing archive
 * ({@code -XX:ArchiveClassesAtExit}) and later starts skip loading them one by one.
 */
@Command(name = "cds-warm-up", hidden = true)
final class WarmUpCommand extends BaseCommand {
    @Override
    protected int execute() throws IOException {
        Path dir = Files.createTempDirectory("pgbackup-warm-up");
        try {
            // The path most commands take: configuration from the environment, the library, the
            // repository, SLF4J, the text formatters; on an empty throwaway repository.
            PgBackupConfig config = PgBackupConfig.fromEnvironment(Map.of("PG_BACKUP_DIR", dir.toString(),
                    "PG_USER_NAME", "warm_up", "PG_DB_NAME", "warm_up"));
            PgBackup.create(config).backups().list();
            warmUpEncryption(config, dir);
            LoggerFactory.getLogger(WarmUpCommand.class).debug("warm-up in {}", dir);
            out().println(Format.bytes(1 << 20) + " " + Format.age(Duration.ofHours(1))
                    + " " + Format.duration(Duration.ofSeconds(1)) + " " + Format.rate(1e6));
            Path file = dir.resolve("sample.json");
            Files.write(file, Json.MAPPER.writeValueAsBytes(new BackupManifest.BackupFile("base.tar.gz", 1, "00")));
            Json.MAPPER.readValue(file.toFile(), BackupManifest.BackupFile.class);
            Json.MAPPER.readTree(file.toFile());
            Files.delete(file);
        } finally {
            Files.deleteIfExists(dir);
        }
        Json.MAPPER.writeValueAsString(Map.of("time", OffsetDateTime.now(), "dir", Optional.of(dir)));
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(new byte[1024]))) {
            tar.getNextEntry();
        }
        try {
            Class.forName("org.postgresql.Driver");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("the PostgreSQL driver is missing from the jar", e);
        }
        spec().getParent().getUsageMessage();
        return 0;
    }

    /**
     * Encryption at rest: Tink, protobuf and the JDK's AES-GCM are some hundreds of classes that every
     * command with a key loads (the archiver, backup, each wal-fetch of a restore); archived, they load
     * in half the time. A throwaway key pair, a repository opened with its private half, and
     * {@code key check}'s seal and open in memory.
     */
    private static void warmUpEncryption(PgBackupConfig config, Path dir) {
        Path key = dir.resolve("warm-up.key");
        Path pub = dir.resolve("warm-up.pub");
        try {
            PgBackup.create(config).encryption().generateKey(key, Optional.of(pub));
            PgBackup sealing = PgBackup.create(PgBackupConfig.fromEnvironment(Map.of("PG_BACKUP_DIR", dir.toString(),
                    "PG_USER_NAME", "warm_up", "PG_DB_NAME", "warm_up", "PG_BACKUP_ENCRYPTION_KEY_FILE", key.toString())));
            sealing.backups().list();
            // Sealing and opening (the JDK's AES-GCM, Tink's streaming AEAD, the keyset record): measured, the archiver's
            // workers start ~50 ms sooner with these classes archived; each wal-fetch of a sealed segment loads them too.
            sealing.encryption().check();
        } finally {
            try {
                Files.deleteIfExists(key);
                Files.deleteIfExists(pub);
            } catch (IOException e) {
                // a temporary directory's leftovers; nothing depends on them
            }
        }
    }
}
