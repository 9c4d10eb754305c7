package io.pgbackup.cli;

import io.pgbackup.core.health.HealthSettings;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Hidden: what archive_wal.sh starts when archiving starts failing or works again (only on such a
 * change, never per segment), so that the notify command and the metrics file hear of it at once.
 */
@Command(name = "archive-event", hidden = true, mixinStandardHelpOptions = true, description = {
        "Tell the notify command and the metrics file that archiving failed or works again.",
        "archive_wal.sh runs it when its outcome changes; there is no need to run it by hand."})
final class ArchiveEventCommand extends BaseCommand {
    @ArgGroup(multiplicity = "1")
    Outcome outcome;

    static final class Outcome {
        @Option(names = "--failed", paramLabel = "MESSAGE", description = "Archiving failed: what archive_wal.sh logged.")
        String failed;

        @Option(names = "--recovered", paramLabel = "WAL", description = "Archiving works again: the segment just archived.")
        String recovered;
    }

    @Override
    protected int execute() {
        boolean ok = outcome.failed == null;
        String message = ok ? "archiving works again: " + outcome.recovered + " was archived" : outcome.failed;
        pgBackup().health().archiveScriptEvent(ok, message, HealthSettings.fromEnvironment(settings().asMap()))
                .forEach(w -> err().println("pgbackup: warning: " + w));
        return 0;
    }
}
