package io.pgbackup.core.testing;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;

import java.nio.file.Path;

/**
 * A stand-in for the CLI's {@code pgbackup archiver --pgdata DIR} in core's tests: archive_wal.sh
 * starts it through the launcher {@link ArchivingCluster#createAsync} gives the scripts. It runs
 * the library's archiver exactly as the CLI does, in a JVM of its own (so a test can kill it).
 */
public final class ArchiverMain {
    private ArchiverMain() {
    }

    public static void main(String[] args) {
        if (args.length == 5 && args[0].equals("archiver") && args[1].equals("--pgdata") && args[3].equals("--spool")) {
            PgBackup.create(PgBackupConfig.fromEnvironment()).archiver().run(Path.of(args[2]), Path.of(args[4]));
            System.exit(0);
        }
        // restore_wal.sh's fetch-ahead: wal-fetch --repo R --ahead N --segment-size B --into DIR NAME
        if (args.length == 10 && args[0].equals("wal-fetch") && args[3].equals("--ahead")) {
            PgBackup.create(PgBackupConfig.fromEnvironment()).prefetchWal(args[9], Long.parseLong(args[6]),
                    Integer.parseInt(args[4]), Path.of(args[8]));
            System.exit(0);
        }
        // restore_wal.sh with encryption on: wal-fetch --repo R NAME PATH (exit codes as the CLI's)
        if (args.length == 5 && args[0].equals("wal-fetch") && args[1].equals("--repo")) {
            try {
                System.exit(PgBackup.create(PgBackupConfig.fromEnvironment()).fetchWal(args[3], Path.of(args[4]).toAbsolutePath()) ? 0 : 1);
            } catch (RuntimeException e) {
                System.err.println("pgbackup: " + e.getMessage());
                System.exit(126);
            }
        }
        System.err.println("usage: ArchiverMain archiver --pgdata DIR --spool DIR | wal-fetch --repo R --ahead N --segment-size B --into DIR NAME");
        System.exit(2);
    }

    /** The command that runs this main with the current test classpath. */
    public static java.util.List<String> launcher() {
        return java.util.List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), ArchiverMain.class.getName());
    }
}
