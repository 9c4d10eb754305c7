package io.pgbackup.core.internal.restore;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

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

    /** Issue 16: a link to '.', then a link through it to '..', would leave a link to the root's parent. */
    @Test
    void aChainOfLinksToTheRootsParentIsRefused() throws Exception {
        Path root = root();
        List<String> before = outside(root);
        byte[] archive = tar(t -> {
            symlink(t, "a", ".");
            symlink(t, "a/b", "..");
        });
        assertRefusedIn(root, archive, "a/b", "through a link");
        assertThat(outside(root)).isEqualTo(before);
        assertThat(root.resolve("b")).doesNotExist();
    }

    /**
     * A longer chain climbs one level per link until it reaches any absolute directory (here
     * {@code victim}, two levels above the root's parent); directory and file entries through it
     * must not land there, nor may any of the links themselves.
     */
    @Test
    void aLongerChainToAnAbsoluteDirectoryLeavesItUntouched() throws Exception {
        Path root = Files.createDirectories(work.resolve("deep/er/root"));
        Path victim = Files.createDirectories(work.resolve("victim"));
        List<String> before = outside(root);
        byte[] archive = tar(t -> {
            symlink(t, "a", ".");
            symlink(t, "a/b", "..");       // the root's parent, deep/er
            symlink(t, "a/b/c", "..");     // deep
            symlink(t, "a/b/c/d", "..");   // work
            symlink(t, "x", "a/b/c/d/victim");
            TarArchiveEntry dir = new TarArchiveEntry("x/planted/");
            dir.setMode(0700);
            t.putArchiveEntry(dir);
            t.closeArchiveEntry();
            file(t, "x/evil", "x", 0600);
        });
        assertRefusedIn(root, archive, "a/b", "through a link");
        assertThat(outside(root)).isEqualTo(before);
        try (var left = Files.list(victim)) {
            assertThat(left).isEmpty();
        }
    }

    /** A directory entry through a link that leads out must not be created before any check. */
    @Test
    void aDirectoryEntryThroughALinkIsNeverCreatedOutside() throws Exception {
        Path root = root();
        Files.createDirectories(work.resolve("victim"));
        List<String> before = outside(root);
        byte[] archive = tar(t -> {
            symlink(t, "a", ".");
            symlink(t, "a/b", "..");
            TarArchiveEntry dir = new TarArchiveEntry("a/b/victim/planted/");
            dir.setMode(0755);
            t.putArchiveEntry(dir);
            t.closeArchiveEntry();
        });
        assertThatThrownBy(() -> new SafeTarExtractor(root).extract(new ByteArrayInputStream(archive), "base.tar"))
                .isInstanceOf(SafeTarExtractor.UnsafeEntryException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(work.resolve("victim/planted")).doesNotExist();
        assertThat(outside(root)).isEqualTo(before);
    }

    @Test
    void hardLinksDevicesAndFifosAreRefusedNotTurnedIntoEmptyFiles() throws Exception {
        for (byte type : new byte[]{TarConstants.LF_LINK, TarConstants.LF_FIFO, TarConstants.LF_CHR, TarConstants.LF_BLK}) {
            Path root = Files.createTempDirectory(work, "root");
            byte[] archive = tar(t -> {
                file(t, "PG_VERSION", "15\n", 0600);
                TarArchiveEntry e = new TarArchiveEntry("special", type);
                if (type == TarConstants.LF_LINK) {
                    e.setLinkName("PG_VERSION");
                }
                t.putArchiveEntry(e);
                t.closeArchiveEntry();
            });
            String why = switch (type) {
                case TarConstants.LF_LINK -> "is a hard link";
                case TarConstants.LF_FIFO -> "is a FIFO";
                default -> "is a device";
            };
            assertRefusedIn(root, archive, "special", why);
            assertThat(root.resolve("special")).doesNotExist();
        }
    }

    /** The restore sets the root's mode (0700, as PostgreSQL demands); a "./" entry of the archive must not change it. */
    @Test
    void theRootsModeNeverComesFromTheArchive() throws Exception {
        Path root = root();
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        byte[] archive = tar(t -> {
            TarArchiveEntry dot = new TarArchiveEntry("./");
            dot.setMode(0777);
            t.putArchiveEntry(dot);
            t.closeArchiveEntry();
            file(t, "PG_VERSION", "15\n", 0600);
        });
        new SafeTarExtractor(root).extract(new ByteArrayInputStream(archive), "base.tar");
        assertThat(Files.getPosixFilePermissions(root)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.readString(root.resolve("PG_VERSION"))).isEqualTo("15\n");
    }

    @Test
    void aFileIsNeverWrittenThroughALinkAlreadyThere() throws Exception {
        Path root = root();
        Path victim = Files.writeString(work.resolve("victim-file"), "keep me");
        Files.createSymbolicLink(root.resolve("PG_VERSION"), victim);
        byte[] archive = tar(t -> file(t, "PG_VERSION", "15\n", 0600));
        assertRefusedIn(root, archive, "PG_VERSION", "through a link");
        assertThat(Files.readString(victim)).isEqualTo("keep me");
    }

    @Test
    void linksInsideTheRootAreKeptChainsIncluded() throws Exception {
        Path root = root();
        byte[] archive = tar(t -> {
            file(t, "global/pg_control", "control", 0600);
            symlink(t, "dirlink", "global");
            symlink(t, "sub/up", "../dirlink/pg_control");
            symlink(t, "self", ".");
        });
        new SafeTarExtractor(root).extract(new ByteArrayInputStream(archive), "base.tar");
        assertThat(Files.readString(root.resolve("sub/up"))).isEqualTo("control");
        assertThat(root.resolve("self").toRealPath()).isEqualTo(root.toRealPath());
    }

    private static void assertRefusedIn(Path root, byte[] archive, String entry, String why) {
        assertThatThrownBy(() -> new SafeTarExtractor(root).extract(new ByteArrayInputStream(archive), "base.tar"))
                .isInstanceOf(SafeTarExtractor.UnsafeEntryException.class)
                .hasMessageContaining("base.tar holds an unsafe entry '" + entry + "'")
                .hasMessageContaining(why)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    /** Everything below the test's directory except the root, as found (links not followed). */
    private List<String> outside(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(work)) {
            List<String> out = new ArrayList<>();
            for (Path p : all.filter(p -> !p.startsWith(root)).sorted().toList()) {
                out.add(work.relativize(p) + (Files.isSymbolicLink(p) ? " -> " + Files.readSymbolicLink(p)
                        : Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "/" : " " + Files.size(p)));
            }
            return out;
        }
    }

    private void assertRefused(byte[] archive, String why) throws IOException {
        Path root = Files.createTempDirectory(work, "root");
        assertThatThrownBy(() -> new SafeTarExtractor(root).extract(new ByteArrayInputStream(archive), "base.tar"))
                .isInstanceOf(SafeTarExtractor.UnsafeEntryException.class)
                .hasMessageContaining("base.tar holds an unsafe entry")
                .hasMessageContaining(why);
    }
}
