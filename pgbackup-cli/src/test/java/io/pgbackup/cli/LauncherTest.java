package io.pgbackup.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** bin/pgbackup as a user runs it: through a symlink, from another directory, with its class-data-sharing archive. */
class LauncherTest {
    @TempDir
    Path work;

    record Run(int exitCode, String stdout, String stderr) {
    }

    @Test
    void runsThroughASymlinkFromAnyDirectoryAndLoadsPicocliFromItsArchiveAfterTheFirstRun() throws Exception {
        // A checkout of our own (bin/ and the jar), so the launcher may write its archive beside the jar.
        Path checkout = work.resolve("checkout");
        Path launcher = Files.createDirectories(checkout.resolve("bin")).resolve("pgbackup");
        Files.copy(CliProcess.jar().getParent().getParent().getParent().resolve("bin/pgbackup"), launcher);
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path target = Files.createDirectories(checkout.resolve("pgbackup-cli/target"));
        Files.copy(CliProcess.jar(), target.resolve("pgbackup.jar"));
        Path link = Files.createDirectories(work.resolve("elsewhere")).resolve("pgbackup");
        Files.createSymbolicLink(link, launcher);

        Run first = run(link, List.of());
        assertThat(first.exitCode()).as(first.stderr()).isZero();
        assertThat(first.stdout()).startsWith("pgbackup ");
        try (Stream<Path> files = Files.list(target)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .as("the archive, and no temporary file left beside it")
                    .containsExactlyInAnyOrder("pgbackup.jar", "pgbackup.jsa");
        }

        // JDK 17 keeps picocli's Java 5 class files out of dynamic archives; the static one holds them.
        Run second = run(link, List.of("JAVA_TOOL_OPTIONS=-Xlog:class+load=info:stdout"));
        assertThat(second.exitCode()).as(second.stderr()).isZero();
        assertThat(second.stdout()).contains("picocli.CommandLine source: shared objects file")
                .contains("io.pgbackup.cli.Main source: shared objects file");
    }

    private Run run(Path launcher, List<String> extraEnv) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "--version").directory(Path.of("/").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("PG") || k.equals("JAVA_TOOL_OPTIONS"));
        for (String kv : extraEnv) {
            pb.environment().put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        Path out = Files.createTempFile(work, "out", "");
        Path err = Files.createTempFile(work, "err", "");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("bin/pgbackup --version did not finish");
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
