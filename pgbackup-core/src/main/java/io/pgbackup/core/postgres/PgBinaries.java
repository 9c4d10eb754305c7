package io.pgbackup.core.postgres;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Where PostgreSQL's programs are. Looked for in order: {@code PG_BIN}, {@code pg_config --bindir}
 * (for the pg_config on PATH), the newest {@code /usr/lib/postgresql/N/bin} (Debian, Ubuntu), then
 * every directory on {@code PATH} (Homebrew, Nix). The first directory holding {@code pg_basebackup}
 * wins, so all programs come from one version.
 */
public final class PgBinaries {
    private final Path binDir;

    public PgBinaries(Path binDir) {
        this.binDir = binDir;
    }

    public static PgBinaries discover(Optional<Path> configured) {
        return discover(configured, System.getenv());
    }

    public static PgBinaries discover(Optional<Path> configured, Map<String, String> env) {
        if (configured.isPresent()) {
            Path dir = configured.get();
            if (!Files.isExecutable(dir.resolve("pg_basebackup"))) {
                throw new PgBackupException(ErrorCode.INVALID_CONFIG, "PG_BIN=" + dir
                        + " holds no pg_basebackup: point PG_BIN at PostgreSQL's bin directory");
            }
            return new PgBinaries(dir);
        }
        for (Path candidate : candidates(env)) {
            if (Files.isExecutable(candidate.resolve("pg_basebackup"))) {
                return new PgBinaries(candidate);
            }
        }
        throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED,
                "pg_basebackup not found (looked in PG_BIN, pg_config --bindir, /usr/lib/postgresql/*/bin, PATH):"
                        + " install the PostgreSQL client programs or set PG_BIN to their directory");
    }

    private static List<Path> candidates(Map<String, String> env) {
        List<Path> dirs = new ArrayList<>();
        String path = env.getOrDefault("PATH", "");
        for (String entry : path.split(":")) {
            if (!entry.isBlank() && Files.isExecutable(Path.of(entry, "pg_config"))) {
                pgConfigBindir(Path.of(entry, "pg_config")).ifPresent(dirs::add);
            }
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                versions.filter(p -> p.getFileName().toString().matches("\\d+(\\.\\d+)?"))
                        .sorted(Comparator.comparingDouble((Path p) -> Double.parseDouble(p.getFileName().toString()))
                                .reversed())
                        .map(p -> p.resolve("bin"))
                        .forEach(dirs::add);
            } catch (IOException ignored) {
                // unreadable: fall through to PATH
            }
        }
        for (String entry : path.split(":")) {
            if (!entry.isBlank()) {
                dirs.add(Path.of(entry));
            }
        }
        return dirs;
    }

    private static Optional<Path> pgConfigBindir(Path pgConfig) {
        try {
            Process process = new ProcessBuilder(pgConfig.toString(), "--bindir").redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes()).trim();
            if (process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0 && !out.isEmpty()) {
                return Optional.of(Path.of(out));
            }
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Optional.empty();
    }

    public Path binDir() {
        return binDir;
    }

    /** The path of a program, e.g. {@code tool("pg_basebackup")}; fails with a clear line if absent. */
    public Path tool(String name) {
        Path tool = binDir.resolve(name);
        if (!Files.isExecutable(tool)) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, name + " not found in " + binDir
                    + ": install it or set PG_BIN to the directory that has it");
        }
        return tool;
    }

    public boolean has(String name) {
        return Files.isExecutable(binDir.resolve(name));
    }

    @Override
    public String toString() {
        return binDir.toString();
    }
}
