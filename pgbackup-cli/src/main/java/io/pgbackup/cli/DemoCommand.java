package io.pgbackup.cli;

import io.pgbackup.core.demo.PitrDemo;
import io.pgbackup.core.postgres.PgBinaries;
import io.pgbackup.core.internal.process.CommonsExecProcessRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Optional;

@Command(name = "demo", description = {
        "Create a throwaway cluster, archive it, back it up, drop a table, and restore to the moment before.",
        "Needs PostgreSQL's server programs (initdb, pg_ctl, postgres); uses none of the PG_* settings."})
final class DemoCommand extends BaseCommand {
    @Option(names = "--keep", description = "Keep the throwaway cluster, repository and restored copy, and say where.")
    boolean keep;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where to create the throwaway directory (default: the system temp dir).")
    Path dir;

    @Override
    protected int execute() {
        String pgBin = context.env().get("PG_BIN");
        PgBinaries binaries = PgBinaries.discover(pgBin == null || pgBin.isBlank() ? Optional.empty() : Optional.of(Path.of(pgBin)),
                context.env());
        Path parent = dir != null ? dir.toAbsolutePath() : Path.of(System.getProperty("java.io.tmpdir"));
        int[] n = {0};
        PitrDemo.Result result = new PitrDemo(binaries, new CommonsExecProcessRunner()).run(parent, keep, step ->
                out().printf("%2d. %-28s %8s  %s%n", ++n[0], step.name(), Format.duration(step.duration()), step.detail()));
        out().printf("PITR demo passed in %s: the rows at T are back (%s)%n", Format.duration(result.total()), result.restored());
        result.keptAt().ifPresent(p -> out().println("kept in " + p));
        return 0;
    }
}
