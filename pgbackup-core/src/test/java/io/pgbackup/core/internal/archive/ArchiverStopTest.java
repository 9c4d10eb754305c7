package io.pgbackup.core.internal.archive;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code init}'s stop of the archivers ({@link ArchiverStop}) against a real second process holding
 * a spool's fcntl lock, as an archiver does: one named by the pid file is stopped; one that holds
 * the lock while the pid file names no running process (an idle archiver exiting on its own, or one
 * starting before its pid is written) is waited for, not a failed init.
 */
class ArchiverStopTest {
    @TempDir
    Path backupDir;

    @Test
    void aLockHeldForAMomentWithNoRunningProcessInThePidFileIsWaitedFor() throws Exception {
        ArchiveSpool spool = spool();
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(spool.pidFile(), gone.pid() + "\n/pgdata\n");
        Process exiting = holdLock(spool, 1500);

        try (ArchiverStop stop = ArchiverStop.stopAndHold(backupDir)) {
            assertThat(stop.stopped()).isEmpty();
            assertThat(exiting.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(exiting.exitValue()).isZero(); // it exited on its own, not by a signal
        }
    }

    @Test
    void theArchiverThePidFileNamesIsStoppedAndItsLockHeld() throws Exception {
        ArchiveSpool spool = spool();
        Process archiver = holdLock(spool, 600_000);
        Files.writeString(spool.pidFile(), archiver.pid() + "\n/pgdata\n");

        try (ArchiverStop stop = ArchiverStop.stopAndHold(backupDir)) {
            assertThat(stop.stopped()).containsExactly(archiver.pid());
            assertThat(archiver.isAlive()).isFalse();
            Process next = lockProbe(spool);
            assertThat(next.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(next.exitValue()).as("a second process finds the lock taken").isEqualTo(3);
        }
    }

    private ArchiveSpool spool() throws Exception {
        ArchiveSpool spool = new ArchiveSpool(backupDir, Path.of("/pgdata"));
        Files.createDirectories(spool.dir());
        return spool;
    }

    /** A JVM that takes {@code spool}'s lock as an archiver does, says so, and exits after {@code millis}. */
    private Process holdLock(ArchiveSpool spool, long millis) throws Exception {
        Process p = java("hold", spool.lockFile(), millis);
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("locked");
        }
        return p;
    }

    /** A JVM that tries the lock once: exit 0 when it got it, 3 when it is taken. */
    private Process lockProbe(ArchiveSpool spool) throws Exception {
        return java("probe", spool.lockFile(), 0);
    }

    private Process java(String mode, Path lockFile, long millis) throws Exception {
        Path source = backupDir.resolve("Locker.java");
        Files.writeString(source, String.join("\n",
                "import java.nio.channels.*;",
                "import java.nio.file.*;",
                "public class Locker {",
                "  public static void main(String[] a) throws Exception {",
                "    try (FileChannel c = FileChannel.open(Path.of(a[1]), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {",
                "      if (a[0].equals(\"probe\")) { System.exit(c.tryLock() == null ? 3 : 0); }",
                "      c.lock();",
                "      System.out.println(\"locked\");",
                "      System.out.close();",
                "      Thread.sleep(Long.parseLong(a[2]));",
                "    }",
                "  }",
                "}"));
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(javaBin, source.toString(), mode, lockFile.toString(), Long.toString(millis))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }
}
