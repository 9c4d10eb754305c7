package io.pgbackup.cli;

import io.pgbackup.core.archive.ArchiveSetup.InitResult;
import io.pgbackup.core.archive.ArchiveSetup.InitResult.ScriptInstall;
import io.pgbackup.core.archive.ArchiveSetup.InitResult.SettingCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

@Command(name = "init", mixinStandardHelpOptions = true, description = {
        "Set up the repository and check PostgreSQL's settings.",
        "Creates the backup directories, installs the WAL archive and restore scripts, and checks PostgreSQL's settings.",
        "Safe to re-run: re-run it after changing PG_BACKUP_* (e.g. to turn on remote sync)."})
final class InitCommand extends BaseCommand {
    @Option(names = "--json", description = "Print the result as JSON, for scripts.")
    boolean json;

    @Override
    protected int execute() {
        io.pgbackup.core.PgBackup pg = pgBackup();
        pg.config().s3().flatMap(io.pgbackup.core.storage.s3.S3Settings::plainHttpWarning)
                .ifPresent(w -> err().println("pgbackup: warning: " + w));
        InitResult result = pg.archiveSetup().init();
        if (json) {
            printJson(jsonView(result));
        } else {
            render(result, out());
            if (pg.config().encryption().enabled()) {
                out().println("async".equals(result.archiverMode())
                        ? "  Encryption: on: the archiver seals each segment with the repository's key; archive_wal.sh never stores plaintext."
                        : "  Encryption: on, but archiving is sync: archive_wal.sh cannot seal and refuses every segment; set"
                        + " PG_BACKUP_ARCHIVER=async and re-run init.");
            }
        }
        return 0;
    }

    private static void render(InitResult result, PrintStream out) {
        String layout = "base/, wal_archive/, scripts/, logs/";
        out.println(result.createdDirectories().isEmpty()
                ? "Backup directory " + result.backupDir() + " (" + layout + ") already set up."
                : "Created " + result.backupDir() + " with " + layout + " (owner-only).");
        for (ScriptInstall script : result.scripts()) {
            out.printf(Locale.ROOT, "  %-9s  %s%n", script.state().name().toLowerCase(Locale.ROOT), script.path());
        }
        for (long pid : result.stoppedArchivers()) {
            out.println("  stopped    the archiver (pid " + pid + ") running with the replaced settings;"
                    + " PostgreSQL's next archive_command starts one with the new ones.");
        }
        out.println("async".equals(result.archiverMode())
                ? "  Archiving: async: archive_wal.sh hands each segment to 'pgbackup archiver' (PG_BACKUP_ARCHIVER=sync: the script stores it itself)."
                : "  Archiving: sync: archive_wal.sh stores each segment itself (PG_BACKUP_ARCHIVER=async: the archiver, which keeps up with more).");
        out.println(result.remoteTarget().isEmpty()
                ? "  Remote WAL sync: off (set PG_BACKUP_REMOTE_HOST and re-run init to turn it on)."
                : "  Remote WAL sync: each archived file is copied to " + result.remoteTarget()
                        + " (ssh port " + result.remotePort() + ") in the background.");

        out.println();
        out.println("Set in postgresql.conf:");
        result.configLines().forEach(line -> out.println("    " + line));
        out.println("or, as a superuser:");
        result.alterSystemStatements().forEach(line -> out.println("    " + line));

        out.println();
        if (!result.cluster().reachable()) {
            out.println("PostgreSQL settings not checked: " + result.cluster().message());
            out.println("wal_level, archive_mode and max_wal_senders take effect on a restart;"
                    + " archive_command and archive_timeout on SELECT pg_reload_conf();.");
            return;
        }
        out.println(result.cluster().message() + ":");
        for (SettingCheck check : result.settings()) {
            out.printf(Locale.ROOT, "  %-9s  %s%n", check.status(), describe(check));
        }
        if (result.clusterReady()) {
            out.println("Archiving is configured: PostgreSQL calls " + result.archiveCommand() + ".");
            return;
        }
        List<String> restartOnly = result.settings().stream().filter(c -> !c.ok() && c.needsRestart())
                .map(SettingCheck::name).toList();
        out.println(restartOnly.isEmpty()
                ? "Then reload PostgreSQL: SELECT pg_reload_conf();"
                : "Then restart PostgreSQL: " + String.join(", ", restartOnly) + " take" + (restartOnly.size() == 1 ? "s" : "")
                        + " effect only on a restart.");
    }

    private static String describe(SettingCheck check) {
        if (check.ok()) {
            return check.name() + " = " + check.actual();
        }
        String actual = check.actual().isEmpty() ? "not set" : "is " + check.actual();
        return check.name() + " " + actual + " (want " + check.expected()
                + (check.needsRestart() ? "; needs a restart)" : "; a reload is enough)");
    }

    /** Plain strings and lists, so paths print as paths and the shape is stable for scripts. */
    private static Map<String, Object> jsonView(InitResult result) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("backupDir", result.backupDir().toString());
        view.put("createdDirectories", result.createdDirectories().stream().map(Path::toString).toList());
        view.put("scripts", result.scripts().stream().map(s -> {
            Map<String, Object> script = new LinkedHashMap<>();
            script.put("path", s.path().toString());
            script.put("state", s.state().name());
            return script;
        }).toList());
        view.put("stoppedArchivers", result.stoppedArchivers());
        view.put("archiveCommand", result.archiveCommand());
        view.put("restoreCommand", result.restoreCommand());
        if (result.remoteTarget().isEmpty()) {
            view.put("remoteSync", null);
        } else {
            view.put("remoteSync", Map.of("target", result.remoteTarget(), "port", result.remotePort()));
        }
        view.put("postgresqlConf", result.configLines());
        view.put("alterSystem", result.alterSystemStatements());
        Map<String, Object> cluster = new LinkedHashMap<>();
        cluster.put("reachable", result.cluster().reachable());
        cluster.put("serverVersion", result.cluster().serverVersion());
        cluster.put("message", result.cluster().message());
        view.put("cluster", cluster);
        view.put("settings", result.settings().stream().map(c -> {
            Map<String, Object> check = new LinkedHashMap<>();
            check.put("name", c.name());
            check.put("expected", c.expected());
            check.put("actual", c.actual());
            check.put("status", c.status().name());
            check.put("needsRestart", c.needsRestart());
            return check;
        }).toList());
        view.put("clusterReady", result.clusterReady());
        view.put("restartNeeded", result.restartNeeded());
        return view;
    }
}
