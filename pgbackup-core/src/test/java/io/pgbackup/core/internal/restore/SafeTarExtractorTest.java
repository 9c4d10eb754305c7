package io.pgbackup.core.internal.restore;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Crafted archives: nothing may be written outside the restore directory. */
class SafeTarExtractorTest {
    @TempDir
    Path work;

    private interface TarWriter {
        void write(TarArchiveOutputStream tar) throws IOException;
    }

    private static byte[] tar(TarWriter writer) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            writer.write(tar);
        }
        return bytes.toByteArray();
    }

    private static void file(TarArchiveOutputStream tar, String name, String content, int mode) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(data.length);
        e.setMode(mode);
        tar.putArchiveEntry(e);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    private static void symlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
        e.setLinkName(target);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    private Path root() throws IOException {
        return Files.createDirectories(work.resolve("root"));
    }

    @Test
    void extractsFilesDirectoriesAndModes() throws Exception {
        Path root = root();
        byte[] archive = tar(t -> {
            TarArchiveEntry dir = new TarArchiveEntry("global/");
            dir.setMode(0700);
            t.putArchiveEntry(dir);
            t.closeArchiveEntry();
            file(t, "global/pg_control", "control", 0600);
            file(t, "PG_VERSION", "15\n", 0600);
            symlink(t, "inside-link", "PG_VERSION");
        });
        long written = new SafeTarExtractor(root).extract(new ByteArrayInputStream(archive), "base.tar");
        assertThat(written).isEqualTo("control".length() + "15\n".length());
        assertThat(Files.readString(root.resolve("global/pg_control"))).isEqualTo("control");
        assertThat(Files.getPosixFilePermissions(root.resolve("PG_VERSION"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readSymbolicLink(root.resolve("inside-link"))).isEqualTo(Path.of("PG_VERSION"));
    }

    @Test
    void refusesDotDotAbsoluteAndLinksOut() throws Exception {
        Path outside = work.resolve("evil");
        assertRefused(tar(t -> file(t, "../evil", "x", 0600)), "climbs out");
        assertRefused(tar(t -> file(t, "a/../../evil", "x", 0600)), "climbs out");
        assertRefused(tar(t -> {
            // preserveAbsolutePath: commons-compress would otherwise strip the leading slash when writing.
            TarArchiveEntry e = new TarArchiveEntry(outside.toString(), true);
            e.setSize(1);
            t.putArchiveEntry(e);
            t.write('x');
            t.closeArchiveEntry();
        }), "absolute");
        assertRefused(tar(t -> symlink(t, "etc", "/etc")), "outside the restore");
        assertRefused(tar(t -> symlink(t, "up", "../..")), "outside the restore");
        assertThat(outside).doesNotExist();
    }

    @Test
    void refusesWritingThroughALinkPlantedOnDisk() throws Exception {
        Path root = root();
        Path outsideDir = Files.createDirectories(work.resolve("outside"));
        // A link already in the target (or made by an earlier entry) must not be followed.
        Files.createSymbolicLink(root.resolve("sneaky"), outsideDir);
        byte[] archive = tar(t -> file(t, "sneaky/evil", "x", 0600));
        assertThatThrownBy(() -> new SafeTarExtractor(root).extract(new ByteArrayInputStream(archive), "base.tar"))
                .isInstanceOf(SafeTarExtractor.UnsafeEntryException.class)
                .hasMessageContaining("through a link");
        assertThat(outsideDir.resolve("evil")).doesNotExist();
    }

    private void assertRefused(byte[] archive, String why) throws IOException {
        Path root = Files.createTempDirectory(work, "root");
        assertThatThrownBy(() -> new SafeTarExtractor(root).extract(new ByteArrayInputStream(archive), "base.tar"))
                .isInstanceOf(SafeTarExtractor.UnsafeEntryException.class)
                .hasMessageContaining("base.tar holds an unsafe entry")
                .hasMessageContaining(why);
    }
}
