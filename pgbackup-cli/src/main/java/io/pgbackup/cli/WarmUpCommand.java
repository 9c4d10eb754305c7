package io.pgbackup.cli;

import io.pgbackup.core.backup.BackupManifest;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import picocli.CommandLine.Command;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
}
