package io.pgbackup.cli;

import io.pgbackup.core.storage.Compression;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * pgbackup.jar holds what production runs: no S3 test server (s3proxy, Jetty, jclouds) inside;
 * that is pgbackup-demo-s3.jar beside it, which only {@code demo --s3} loads. Only Linux and macOS
 * natives, and no Tink JWT/signature code: pgbackup runs on neither Windows nor the BSDs.
 */
class JarContentsTest {
    /** Issue 20's cap for the shaded CLI jar. */
    private static final long MAX_JAR_BYTES = 30_000_000;
    /** zstd-jni, junixsocket and lz4-java natives for systems pgbackup does not run on, and unused Tink packages. */
    private static final Pattern DROPPED = Pattern.compile("(win|freebsd|aix)/.*"
            + "|lib/[^/]*-(Windows|AIX|OS400|FreeBSD|NetBSD|OpenBSD|DragonFlyBSD|SunOS)[^/]*/.*"
            + "|net/jpountz/util/(win32|windows)/.*"
            + "|com/google/crypto/tink/(jwt|signature|keyderivation)/.*");

    @TempDir
    Path work;

    @Test
    void theCliJarStaysUnderItsCapWithLinuxAndMacNativesOnly() throws Exception {
        assertThat(Files.size(CliProcess.jar())).as("pgbackup.jar size").isLessThanOrEqualTo(MAX_JAR_BYTES);
        try (JarFile jar = new JarFile(CliProcess.jar().toFile())) {
            List<String> names = jar.stream().map(ZipEntry::getName).toList();
            assertThat(names.stream().filter(n -> DROPPED.matcher(n).matches())).isEmpty();
            assertThat(names).contains("linux/amd64/", "linux/aarch64/", "darwin/x86_64/", "darwin/aarch64/",
                    "lib/amd64-Linux-clang/", "lib/aarch64-Linux-clang/", "lib/x86_64-MacOSX-clang/", "lib/aarch64-MacOSX-clang/",
                    "net/jpountz/util/linux/amd64/", "net/jpountz/util/darwin/aarch64/");
        }
    }

    /** The zstd and lz4 natives load from the filtered jar: wal-fetch decompresses one segment of each. */
    @Test
    void walFetchDecompressesZstdAndLz4ThroughTheJar() throws Exception {
        long started = System.nanoTime();
        Path repo = Files.createDirectories(work.resolve("repo"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path archive = Files.createDirectories(repo.resolve("wal_archive"));
        byte[] segment = new byte[1 << 20];
        new Random(20).nextBytes(segment);
        int n = 1;
        for (Compression c : List.of(Compression.ZSTD, Compression.LZ4)) {
            String name = "00000001000000000000000" + n++;
            try (OutputStream out = c.compress(Files.newOutputStream(archive.resolve(name + c.suffix())))) {
                out.write(segment);
            }
            Path dest = work.resolve(name);
            CliProcess.Result fetched = CliProcess.run(Map.of("PG_BACKUP_DIR", repo.toString()), "wal-fetch", name, dest.toString());
            assertThat(fetched.exitCode()).as(c + ": " + fetched.all()).isZero();
            assertThat(Files.readAllBytes(dest)).as(c.cliName()).isEqualTo(segment);
        }
        System.out.printf("elapsed %s: %d ms%n", "jar-zstd-lz4", (System.nanoTime() - started) / 1_000_000);
    }

    @Test
    void theCliJarHoldsNoTestServerAndNamesItsModule() throws Exception {
        try (JarFile jar = new JarFile(CliProcess.jar().toFile())) {
            List<String> server = jar.stream().map(ZipEntry::getName)
                    .filter(n -> n.startsWith("org/gaul/") || n.startsWith("org/eclipse/jetty/") || n.startsWith("org/jclouds/"))
                    .toList();
            assertThat(server).isEmpty();
            assertThat(jar.getEntry("io/pgbackup/s3/S3Storage.class")).as("S3 support stays in the CLI").isNotNull();
            assertThat(jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name")).isEqualTo("io.pgbackup.cli");
        }
        Path demo = CliProcess.jar().resolveSibling("pgbackup-demo-s3.jar");
        try (JarFile jar = new JarFile(demo.toFile())) {
            assertThat(jar.getEntry("org/gaul/s3proxy/S3Proxy.class")).isNotNull();
            assertThat(jar.getEntry("io/pgbackup/demo/s3/DemoS3Server.class")).isNotNull();
        }
    }

    /** A pgbackup.jar without its demo server beside it: demo --s3 says so in one line, and nothing is created. */
    @Test
    void demoS3WithoutTheServerJarSaysHowToBuildItInOneLine() throws Exception {
        Path alone = Files.copy(CliProcess.jar(), Files.createDirectories(work.resolve("alone")).resolve("pgbackup.jar"));
        Path dir = Files.createDirectories(work.resolve("tmp"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                alone.toString(), "demo", "--s3", "--dir", dir.toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(output).isEqualTo(1);
        assertThat(output.strip()).doesNotContain("\n")
                .contains(alone.resolveSibling("pgbackup-demo-s3.jar").toString(), "missing", "mvn -DskipTests package");
        try (var left = Files.list(dir)) {
            assertThat(left).isEmpty();
        }
    }
}
