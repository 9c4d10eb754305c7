package io.pgbackup.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * pgbackup.jar holds what production runs: no S3 test server (s3proxy, Jetty, jclouds) inside;
 * that is pgbackup-demo-s3.jar beside it, which only {@code demo --s3} loads.
 */
class JarContentsTest {
    @TempDir
    Path work;

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
