package io.pgbackup.core.archive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a real program (the generated scripts) as PostgreSQL would: a separate process, exit code and output. */
final class Sh {
    private Sh() {
    }

    record Result(int exitCode, String stdout, String stderr, long millis) {
    }

    static Result run(Path workDir, Map<String, String> extraEnv, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(workDir.toFile());
        pb.environment().putAll(extraEnv);
        Path out = Files.createTempFile(workDir, "sh-", ".out");
        Path err = Files.createTempFile(workDir, "sh-", ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        long start = System.nanoTime();
        Process process = pb.start();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within 2 minutes");
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        try {
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), millis);
        } finally {
            Files.delete(out);
            Files.delete(err);
        }
    }

    static Result run(Path workDir, String... command) throws IOException, InterruptedException {
        return run(workDir, Map.of(), command);
    }
}
