package io.pgbackup.core.storage;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/** Runs the real command-line compressors against files the library wrote, and builds test data. */
public final class ExternalTools {
    private ExternalTools() {
    }

    /** Skips the calling test unless {@code program} is on the PATH: interoperability needs the real tool. */
    public static void assumeInstalled(String program) {
        Assumptions.assumeTrue(onPath(program), program + " is not installed (apt-get install " + program + ")");
    }

    public static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** Runs {@code command} with stdin from {@code stdin} (or nothing) and stdout into {@code stdout}; returns the exit code. */
    public static int run(List<String> command, Path stdin, Path stdout) throws IOException, InterruptedException {
        Path stderr = Files.createTempFile(stdout.getParent(), "stderr", ".txt");
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command))
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile());
        pb.redirectInput(stdin == null ? ProcessBuilder.Redirect.from(new File("/dev/null")) : ProcessBuilder.Redirect.from(stdin.toFile()));
        Process p = pb.start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException(command + " did not finish within 2 minutes");
        }
        if (p.exitValue() != 0) {
            System.err.println(command + " failed: " + Files.readString(stderr, StandardCharsets.UTF_8));
        }
        return p.exitValue();
    }

    /** Bytes that compress like database pages: repeated row layouts with changing numbers. */
    public static byte[] compressible(int size, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] data = new byte[size];
        StringBuilder row = new StringBuilder();
        int at = 0;
        while (at < size) {
            row.setLength(0);
            row.append(random.nextInt(1_000_000)).append('|').append(random.nextInt(100)).append("|0|")
                    .append(" ".repeat(random.nextInt(40, 84))).append('\n');
            byte[] bytes = row.toString().getBytes(StandardCharsets.US_ASCII);
            int n = Math.min(bytes.length, size - at);
            System.arraycopy(bytes, 0, data, at, n);
            at += n;
        }
        return data;
    }

    public static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new SplittableRandom(seed).nextBytes(data);
        return data;
    }
}
