package io.pgbackup.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The absolute command that runs this pgbackup, for jobs and scripts that call back into it. */
final class Launcher {
    private Launcher() {
    }

    /** bin/pgbackup beside the build that holds this jar, else this JVM running this jar; empty when unknown. */
    static Optional<List<String>> find() {
        try {
            Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
            if (!Files.isRegularFile(jar)) {
                return Optional.empty();
            }
            Path script = jar.getParent() == null || jar.getParent().getParent() == null ? null
                    : jar.getParent().getParent().getParent().resolve("bin").resolve("pgbackup");
            if (script != null && Files.isExecutable(script)) {
                return Optional.of(List.of(script.normalize().toString()));
            }
            List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar"));
            java.add(jar.toString());
            return Optional.of(java);
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
