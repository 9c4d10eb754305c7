package io.pgbackup.cli;

import io.pgbackup.core.demo.PitrDemo;
import io.pgbackup.core.postgres.PgBinaries;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Optional;

@Command(name = "demo", mixinStandardHelpOptions = true, description = {
        "Create a throwaway cluster, archive it, back it up, drop a table, and restore to the moment before.",
        "Needs PostgreSQL's server programs (initdb, pg_ctl, postgres); uses none of the PG_* settings."})
final class DemoCommand extends BaseCommand {
    @Option(names = "--keep", description = "Keep the throwaway cluster, repository and restored copy, and say where.")
    boolean keep;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where to create the throwaway directory (default: the system temp dir).")
    Path dir;

    @Option(names = "--s3", description = {"Keep the offsite copy in an S3 bucket served in-process (s3proxy on 127.0.0.1),"
            + " then lose the local repository and restore from the bucket alone."})
    boolean s3;

    @Override
    protected int execute() {
        String pgBin = context.env().get("PG_BIN");
        PgBinaries binaries = PgBinaries.discover(pgBin == null || pgBin.isBlank() ? Optional.empty() : Optional.of(Path.of(pgBin)),
                context.env());
        Path parent = dir != null ? dir.toAbsolutePath() : Path.of(System.getProperty("java.io.tmpdir"));
        int[] n = {0};
        java.util.function.Consumer<PitrDemo.Step> print = step ->
                out().printf("%2d. %-30s %8s  %s%n", ++n[0], step.name(), Format.duration(step.duration()), step.detail());
        PitrDemo demo = PitrDemo.create(binaries);
        PitrDemo.Result result;
        if (s3) {
            demo.refuseRoot(); // before a server and a directory exist
            Path serverJar = DemoS3Server.jar();
            Path objects = createDirectory(parent);
            try (DemoS3Server server = DemoS3Server.start(serverJar, objects)) {
                out().println("S3 server (s3proxy, in-process) on " + server.bucket().settings().endpoint().orElseThrow()
                        + ", bucket " + DemoS3Server.BUCKET + ", objects in " + objects);
                result = demo.withBucket(server.bucket(), Launcher.find().orElse(java.util.List.of())).run(parent, keep, print);
            } finally {
                if (!keep) {
                    deleteQuietly(objects);
                }
            }
        } else {
            result = demo.run(parent, keep, print);
        }
        out().printf("PITR demo passed in %s: the rows at T are back (%s)%s%n", Format.duration(result.total()), result.restored(),
                s3 ? ", restored from the bucket alone" : "");
        result.keptAt().ifPresent(p -> out().println("kept in " + p));
        return 0;
    }

    private static Path createDirectory(Path parent) {
        try {
            return java.nio.file.Files.createTempDirectory(parent, "pgbackup-demo-s3-",
                    java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        } catch (java.io.IOException e) {
            throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.IO_FAILED,
                    "cannot create a directory in " + parent + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(dir)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException | RuntimeException e) {
            // a throwaway directory under the temp dir: left for the system to clean
        }
    }
}
