package io.pgbackup.core.archive;

import io.pgbackup.core.archive.WalArchiver.ArchiverState;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgbackup.core.internal.archive.ArchiveSpool;
import io.pgbackup.core.internal.archive.ArchiverLiveness;
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
            Path lock = pidFile.resolveSibling("archiver.flock");
            assertThat(ArchiverLiveness.probe(lock)).isEqualTo(ArchiverLiveness.Probe.HELD);
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
            assertThat(ArchiverLiveness.probe(lock)).isEqualTo(ArchiverLiveness.Probe.FREE);

            // PostgreSQL's next call finds no archiver holding the lock, starts one, and it archives.
            pg.execute("INSERT INTO t SELECT 2");
            String next = pg.switchWal();
            PgCluster.await(LONG, "archiving of " + next + " by a new archiver", () ->
                    pg.queryString("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").compareTo(next) >= 0);
            assertThat(reused.isAlive()).as("the process that got the old pid is left alone").isTrue();
            PgCluster.await(Duration.ofSeconds(30), "the new archiver's state", () -> source.pgBackup().archiver().state()
                    .map(s -> s.running() && s.pid() != reused.pid() && s.pid() != killed).orElse(false));
            assertThat(source.pgBackup().status().report().walArchiver().state().running()).as("status").isTrue();
            assertThat(ArchiverLiveness.probe(lock)).isEqualTo(ArchiverLiveness.Probe.HELD);
            assertThat(Files.readString(source.repository().resolve("logs/wal_archive.log"))).doesNotContain("liveness-lock");
        } finally {
            reused.destroyForcibly();
        }
    }

    @Test
    void anArchiverWhoseLockHolderWasKilledTakesItAgain() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withIdleExitSeconds(300))) {
            PgCluster pg = source.cluster();
            pg.execute("CREATE TABLE t AS SELECT 1 AS x");
            source.switchAndAwaitArchived();
            Path pidFile = ArchiveSpool.pidFileOf(source.repository(), pg.dataDir());
            Path lock = pidFile.resolveSibling("archiver.flock");
            PgCluster.await(Duration.ofSeconds(30), "the archiver's pid file", () -> Files.exists(pidFile));
            ProcessHandle archiver = ProcessHandle.of(Long.parseLong(Files.readAllLines(pidFile).get(0).strip())).orElseThrow();
            assertThat(ArchiverLiveness.probe(lock)).isEqualTo(ArchiverLiveness.Probe.HELD);

            ProcessHandle holder = archiver.children().filter(c -> c.info().command().orElse("").endsWith("flock"))
                    .findFirst().orElseThrow();
            assertThat(holder.destroyForcibly()).isTrue();
            holder.onExit().get(30, TimeUnit.SECONDS);

            Path log = source.repository().resolve("logs/wal_archive.log");
            PgCluster.await(Duration.ofSeconds(60), "the archiver to take its lock again",
                    () -> Files.readString(log).contains("liveness-lock archiver taken again"));
            assertThat(ArchiverLiveness.probe(lock)).isEqualTo(ArchiverLiveness.Probe.HELD);
            assertThat(archiver.isAlive()).isTrue();
            String next = source.switchAndAwaitArchived();
            assertThat(source.pgBackup().archiver().state().orElseThrow().pid()).isEqualTo(archiver.pid());
            assertThat(next).isNotEmpty();
        }
    }
}
