package io.pgbackup.core.archive;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgbackup.core.internal.archive.ArchiveSpool;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16 item 5: whether an archiver runs is decided by its lock, not by its pid, in
 * archive_wal.sh and in status alike. An archiver killed outright (the OOM killer) leaves its pid
 * file and a state that says it runs; once that pid belongs to another process of the same user
 * (a PostgreSQL backend, here a {@code sleep}), kill -0 says "alive" for ever.
 */
class ArchiverLivenessTest {
    private static final Duration LONG = Duration.ofMinutes(3);

    @TempDir
    Path work;

    @Test
    void anArchiverKilledOutrightWhosePidWasReusedIsReportedGoneAndReplaced() throws Exception {
        Process reused = new ProcessBuilder("sleep", "600").start();
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withIdleExitSeconds(300))) {
            PgCluster pg = source.cluster();
            pg.execute("CREATE TABLE t AS SELECT 1 AS x");
            source.switchAndAwaitArchived();
            Path pidFile = ArchiveSpool.pidFileOf(source.repository(), pg.dataDir());
            Path stateFile = pidFile.resolveSibling("state.json");
            PgCluster.await(Duration.ofSeconds(30), "the archiver's pid file and running state", () -> Files.exists(pidFile)
                    && source.pgBackup().archiver().state().map(ArchiverState::running).orElse(false));
            long killed = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
            assertThat(source.pgBackup().status().report().walArchiver().state().running()).isTrue();

            ProcessHandle archiver = ProcessHandle.of(killed).orElseThrow();
            assertThat(archiver.destroyForcibly()).isTrue();
            archiver.onExit().get(30, TimeUnit.SECONDS);
            // Its pid now belongs to another live process of the same user: what it left says so.
            Files.writeString(pidFile, reused.pid() + "\n" + Files.readAllLines(pidFile).get(1) + "\n");
            ObjectMapper json = new ObjectMapper();
            ObjectNode state = (ObjectNode) json.readTree(stateFile.toFile());
            assertThat(state.get("running").asBoolean()).isTrue();
            state.put("pid", reused.pid());
            Files.write(stateFile, json.writeValueAsBytes(state));

            // Its lock went with it (a moment after the kill: the child holding it reads end of file then).
            PgCluster.await(Duration.ofSeconds(30), "the archiver's state to say it is gone",
                    () -> !source.pgBackup().archiver().state().orElseThrow().running());
            assertThat(source.pgBackup().status().report().walArchiver().state().running()).as("status").isFalse();

            // PostgreSQL's next call finds no archiver holding the lock, starts one, and it archives.
            pg.execute("INSERT INTO t SELECT 2");
            String next = pg.switchWal();
            PgCluster.await(LONG, "archiving of " + next + " by a new archiver", () ->
                    pg.queryString("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").compareTo(next) >= 0);
            assertThat(reused.isAlive()).as("the process that got the old pid is left alone").isTrue();
            PgCluster.await(Duration.ofSeconds(30), "the new archiver's state", () -> source.pgBackup().archiver().state()
                    .map(s -> s.running() && s.pid() != reused.pid() && s.pid() != killed).orElse(false));
            assertThat(source.pgBackup().status().report().walArchiver().state().running()).as("status").isTrue();
        } finally {
            reused.destroyForcibly();
        }
    }
}
