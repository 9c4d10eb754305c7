package io.pgbackup.cli;

import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A repository on a small filesystem: a tmpfs mounted in a user namespace of the test's own
 * ({@code unshare -rm}, no root needed), the CLI jar run inside it. A backup needs room for what
 * it stores, not for the raw database; and when even that does not fit, the one line says so.
 */
class SmallDiskCliTest {
    private static final long SMALL_FS = 40L << 20;

    @TempDir
    static Path clusterDir;
    static PgCluster cluster;

    @TempDir
    Path work;

    @BeforeAll
    static void start() throws Exception {
        cluster = PgCluster.create(clusterDir);
        // About 100 MB of table that compresses to a few MB: the raw database cannot fit in 40 MiB.
        cluster.execute("CREATE TABLE filler AS SELECT g AS id, repeat('pgbackup ', 25) AS text FROM generate_series(1, 400000) g",
                "CHECKPOINT");
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void aBackupNeedsRoomForWhatItStoresNotForTheRawDatabase() throws Exception {
        long databaseBytes = cluster.queryLong("SELECT sum(pg_database_size(oid))::bigint FROM pg_database");
        assertThat(databaseBytes).as("the raw database must not fit").isGreaterThan(2 * SMALL_FS);

        String out = inSmallRepository(SMALL_FS, "backup", "verify");

        assertThat(out).as(out).contains("backup-exit=0").contains("verify-exit=0");
        long used = Long.parseLong(out.replaceAll("(?s).*\\nused=(\\d+).*", "$1"));
        assertThat(used).isLessThan(SMALL_FS);
    }

    @Test
    void aFullDiskIsNamedInOneLineAndLeavesNothingBehind() throws Exception {
        String out = inSmallRepository(1L << 20, "backup");

        assertThat(out).as(out).contains("backup-exit=1");
        String stderr = out.replaceAll("(?s).*<stderr>(.*)</stderr>.*", "$1").strip();
        assertThat(stderr.lines()).as(stderr).hasSize(1);
        assertThat(stderr).contains("no space left on device").contains("MiB free").doesNotContain("\tat ");
        assertThat(out).contains("base-entries=\n");
    }

    /** Runs {@code commands} through the jar against a repository on a tmpfs of {@code size} bytes. */
    private String inSmallRepository(long size, String... commands) throws IOException, InterruptedException {
        assumeTrue(userNamespacesWork(), "unshare -rm (unprivileged user namespaces) is not available here");
        Path mount = Files.createDirectories(work.resolve("small"));
        StringBuilder script = new StringBuilder("set -u\nmount -t tmpfs -o mode=0700,size=" + size + " tmpfs \"$REPO\" || exit 3\n"
                + "mkdir -m 700 \"$REPO/base\" \"$REPO/wal_archive\" \"$REPO/scripts\" \"$REPO/logs\"\n");
        for (String command : commands) {
            script.append("\"$JAVA\" -jar \"$JAR\" ").append(command).append(" >\"$OUT/").append(command)
                    .append(".out\" 2>\"$OUT/").append(command).append(".err\"; echo ").append(command).append("-exit=$?\n");
        }
        script.append("echo \"used=$(df -B1 --output=used \"$REPO\" | tail -1 | tr -d ' ')\"\n")
                .append("echo \"base-entries=$(ls -A \"$REPO/base\" | tr '\\n' ' ')\"\n")
                .append("echo '<stderr>'; cat \"$OUT/").append(commands[0]).append(".err\"; echo '</stderr>'\n");
        Path outDir = Files.createDirectories(work.resolve("out"));
        ProcessBuilder pb = new ProcessBuilder("unshare", "-rm", "sh", "-c", script.toString()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().putAll(cluster.environment(mount));
        pb.environment().putAll(Map.of("REPO", mount.toString(), "OUT", outDir.toString(),
                "JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString(), "JAR", CliProcess.jar().toString()));
        Path log = work.resolve("run.log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("the small-disk run did not finish");
        }
        String out = Files.readString(log);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private static boolean userNamespacesWork() {
        try {
            Process p = new ProcessBuilder(new ArrayList<>(List.of("unshare", "-rm", "true"))).redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
