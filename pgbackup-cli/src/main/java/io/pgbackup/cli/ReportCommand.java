package io.pgbackup.cli;

import io.pgbackup.core.health.HealthSettings;
import io.pgbackup.core.report.ReportModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

@Command(name = "report", mixinStandardHelpOptions = true, description = {
        "Write a self-contained HTML page about the repository.",
        "The page shows the recoverable window on a time line (backups, archived WAL, gaps), each backup's size, "
                + "duration and last verification, and the status verdict with its reasons and what 'pgbackup check' finds. It loads nothing from elsewhere."})
final class ReportCommand extends BaseCommand {
    @picocli.CommandLine.Mixin
    RepoOption repo;

    @Option(names = "--html", paramLabel = "FILE", description = "Write the page to FILE (replaced atomically).")
    Path html;

    @Option(names = "--json", description = "Print the report's data as JSON.")
    boolean json;

    @Override
    protected io.pgbackup.core.PgBackup.RepositorySource repositorySource() {
        return repo.source();
    }

    @Override
    protected int execute() {
        if (html == null && !json) {
            throw new picocli.CommandLine.ParameterException(spec(), "report needs --html FILE (or --json)");
        }
        ReportModel model = pgBackup().report().withCheck(check());
        if (html != null) {
            write(html.toAbsolutePath(), HtmlReport.render(model));
            if (!json) {
                out().println("report written to " + html.toAbsolutePath() + " (" + model.backups().size() + " backup(s), verdict "
                        + model.verdict() + ")");
            }
        }
        if (json) {
            printJson(model);
        }
        return 0;
    }

    /** What {@code pgbackup check} would say now (same thresholds); a check that cannot run is one UNKNOWN row, not a failed report. */
    private io.pgbackup.core.health.CheckReport check() {
        try {
            return pgBackup().health().check(HealthSettings.fromEnvironment(settings().asMap()).thresholds());
        } catch (RuntimeException e) {
            return io.pgbackup.core.health.CheckReport.unknown(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** Temp file beside the target, fsync, rename: a reader never sees half a page. */
    private static void write(Path target, String page) {
        Path dir = target.getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(page.getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
        } catch (IOException e) {
            throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.IO_FAILED,
                    "cannot write the report to " + target + ": " + e.getMessage() + " (choose a writable directory)");
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the failure above is what the user needs to see
                }
            }
        }
    }
}
