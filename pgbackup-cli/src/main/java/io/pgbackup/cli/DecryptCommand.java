package io.pgbackup.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;

@Command(name = "decrypt", mixinStandardHelpOptions = true, description = {
        "Write one repository object opened with the key, still compressed (an escape hatch for a person with the key).",
        "The object is authenticated as it is read: an altered one is refused with a line, exit 1."})
final class DecryptCommand extends BaseCommand {
    @picocli.CommandLine.Mixin
    RepoOption repo;

    @Parameters(index = "0", paramLabel = "REPOSITORY-KEY", description = {
            "The object's key, e.g. base/20260202_020000/base.tar.gz or wal_archive/000000010000000000000001.gz."})
    String key;

    @Option(names = "--out", paramLabel = "FILE", description = "Write to FILE (new, mode 0600) instead of standard output.")
    Path out;

    @Override
    protected boolean announceRepository() {
        return out != null;
    }

    @Override
    protected int execute() {
        if (out == null) {
            pgBackup().encryption().decrypt(key, out());
            out().flush();
            return 0;
        }
        long bytes = pgBackup().encryption().decrypt(key, out.toAbsolutePath());
        out().println(key + ": " + bytes + " bytes written to " + out.toAbsolutePath());
        return 0;
    }
}
