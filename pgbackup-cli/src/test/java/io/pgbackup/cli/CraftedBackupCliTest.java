package io.pgbackup.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.testing.ArchivingCluster;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16: a tampered backup in the repository, consistent with its manifest (so only the
 * extractor stands in the way), restored through the jar: one line, exit 1, nothing written
 * outside the target.
 */
class CraftedBackupCliTest {
    @TempDir
    Path work;

    @Test
    void aBaseTarWithALinkChainOutOfTheTargetIsRefusedAndNothingOutsideIsWritten() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            Map<String, String> env = source.cluster().environment(source.repository());
            CliProcess.Result backup = CliProcess.run(env, "backup");
            assertThat(backup.exitCode()).as(backup.all()).isZero();
            String id = backup.stdout().split(" ")[1];
            Path backupDir = source.repository().resolve("base").resolve(id);
            craft(backupDir);

            // The target three levels below work/, the directory to reach (any absolute one) beside them.
            Path target = Files.createDirectories(work.resolve("deep/er")).resolve("target");
            Path victim = Files.createDirectories(work.resolve("victim"));
            Files.writeString(victim.resolve("keep"), "keep me");
            List<String> before = listing(work.resolve("deep"), target);
            List<String> victimBefore = listing(victim, target);

            CliProcess.Result restore = CliProcess.run(env, "restore", id, "--target", "immediate", "--target-dir", target.toString());
            assertThat(listing(victim, target)).isEqualTo(victimBefore);
            assertThat(Files.readString(victim.resolve("keep"))).isEqualTo("keep me");
            assertThat(listing(work.resolve("deep"), target)).isEqualTo(before);
            assertThat(linksLeadingOut(target)).as("links in the partial restore that lead out of it").isEmpty();
            assertThat(restore.exitCode()).as(restore.all()).isEqualTo(1);
            assertThat(restore.stderr().strip()).contains("base.tar").contains("holds an unsafe entry 'a/b'")
                    .contains("through a link").doesNotContain("\n").doesNotContain("Exception");
            assertThat(target.resolve("recovery.signal")).doesNotExist();
        }
    }

    /**
     * Rewrites the backup's base.tar: its real entries, then a chain of links climbing one level
     * each ({@code a -> .}, {@code a/b -> ..}, ...) to work/victim, and a directory and a file through
     * it; the manifest's size and SHA-256 follow, so the plan's checksum check passes.
     */
    private static void craft(Path backupDir) throws Exception {
        Path base;
        try (Stream<Path> files = Files.list(backupDir)) {
            base = files.filter(f -> f.getFileName().toString().startsWith("base.tar")).findFirst().orElseThrow();
        }
        String fileName = base.getFileName().toString();
        Compression compression = Stream.of(Compression.values())
                .filter(c -> !c.suffix().isEmpty() && fileName.endsWith(c.suffix())).findFirst().orElseThrow();
        Path crafted = backupDir.resolve("crafted.tmp");
        try (InputStream in = compression.decompress(Files.newInputStream(base));
             TarArchiveInputStream real = new TarArchiveInputStream(in);
             OutputStream out = compression.compress(Files.newOutputStream(crafted));
             TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            TarArchiveEntry e;
            while ((e = real.getNextEntry()) != null) {
                tar.putArchiveEntry(e);
                real.transferTo(tar);
                tar.closeArchiveEntry();
            }
            link(tar, "a", ".");
            link(tar, "a/b", "..");        // deep/er
            link(tar, "a/b/c", "..");      // deep
            link(tar, "a/b/c/d", "..");    // work
            link(tar, "x", "a/b/c/d/victim");
            TarArchiveEntry dir = new TarArchiveEntry("x/planted/");
            dir.setMode(0700);
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
            byte[] evil = "evil".getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry file = new TarArchiveEntry("x/evil");
            file.setSize(evil.length);
            file.setMode(0600);
            tar.putArchiveEntry(file);
            tar.write(evil);
            tar.closeArchiveEntry();
        }
        Files.move(crafted, base, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        Path manifestFile = backupDir.resolve("pgbackup_manifest.json");
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = (ObjectNode) json.readTree(manifestFile.toFile());
        boolean found = false;
        for (var f : manifest.withArray("files")) {
            if (f.path("name").asText().equals(fileName)) {
                ((ObjectNode) f).put("size", Files.size(base));
                ((ObjectNode) f).put("sha256", HexFormat.of().formatHex(
                        MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(base))));
                found = true;
            }
        }
        assertThat(found).as("the manifest lists " + fileName).isTrue();
        json.writeValue(manifestFile.toFile(), manifest);
    }

    private static void link(TarArchiveOutputStream tar, String name, String to) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
        e.setLinkName(to);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    /** Links below {@code dir} whose target, resolved by the kernel, is outside it. */
    private static List<String> linksLeadingOut(Path dir) throws IOException {
        Path real = dir.toRealPath();
        try (Stream<Path> all = Files.walk(dir)) {
            List<String> out = new ArrayList<>();
            for (Path p : all.filter(Files::isSymbolicLink).toList()) {
                if (Files.exists(p) && !p.toRealPath().startsWith(real)) {
                    out.add(dir.relativize(p) + " -> " + p.toRealPath());
                }
            }
            return out;
        }
    }

    /** What is below {@code dir}, except {@code except}, as found (links not followed). */
    private static List<String> listing(Path dir, Path except) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try (Stream<Path> all = Files.walk(dir)) {
            List<String> out = new ArrayList<>();
            for (Path p : all.filter(p -> !p.startsWith(except)).sorted().toList()) {
                out.add(p + (Files.isSymbolicLink(p) ? " -> " + Files.readSymbolicLink(p)
                        : Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "/" : " " + Files.size(p)));
            }
            return out;
        }
    }
}
