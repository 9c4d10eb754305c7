package io.pgbackup.cli;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.schedule.JobScheduler.InstallResult;
import io.pgbackup.core.schedule.JobScheduler.Schedule;
import io.pgbackup.core.schedule.JobScheduler.Schedule.ScheduleFormat;
import io.pgbackup.core.schedule.JobScheduler.ScheduleRequest;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

@Command(name = "schedule", mixinStandardHelpOptions = true, description = {
        "Print or install the scheduled backup, cleanup and sync jobs.",
        "Print (or --install) the scheduled jobs: backup daily at 02:00, cleanup Sundays at 03:00, optional hourly sync.",
        "Default: cron on Linux, launchd on macOS; --systemd for systemd timers. The password is never written: use ~/.pgpass."})
final class ScheduleCommand extends BaseCommand {
    static final class Kind {
        @Option(names = "--cron", description = "A crontab block (default on Linux).")
        boolean cron;

        @Option(names = "--launchd", description = "launchd agents in ~/Library/LaunchAgents (default on macOS).")
        boolean launchd;

        @Option(names = "--systemd", description = "systemd user timers: a .service and a .timer per job (Persistent=true), in ~/.config/systemd/user.")
        boolean systemd;
    }

    @ArgGroup(exclusive = true)
    Kind kind;

    @Option(names = "--install", description = "cron: merge into your crontab, replacing an earlier pgbackup block; launchd: write the plists; systemd: write the units.")
    boolean install;

    @Option(names = "--unit-dir", paramLabel = "DIR", description = "Where --systemd --install writes the units (default ~/.config/systemd/user).")
    Path unitDir;

    @Option(names = "--backup-at", paramLabel = "HH:MM", defaultValue = "02:00", description = "Daily backup time (default 02:00).")
    String backupAt;

    @Option(names = "--cleanup-at", paramLabel = "\"DAY HH:MM\"", defaultValue = "Sun 03:00", description = "Weekly cleanup (default \"Sun 03:00\").")
    String cleanupAt;

    @Option(names = "--sync-every-hour", description = "Also run 'pgbackup sync' every hour.")
    boolean syncHourly;

    @Option(names = "--launcher", paramLabel = "PATH", description = "The pgbackup command the jobs run (default: bin/pgbackup next to this jar, else java -jar this jar).")
    Path launcher;

    @Option(names = "--json", description = "Print the job definitions (and what --install did) as JSON.")
    boolean json;

    @Override
    protected int execute() {
        ScheduleFormat format = kind == null ? ScheduleFormat.defaultFor(System.getProperty("os.name", ""))
                : kind.launchd ? ScheduleFormat.LAUNCHD : kind.systemd ? ScheduleFormat.SYSTEMD : ScheduleFormat.CRON;
        if (unitDir != null && format != ScheduleFormat.SYSTEMD) {
            throw usage("--unit-dir is where --systemd writes its units: add --systemd, or drop --unit-dir");
        }
        String[] cleanup = cleanupAt.trim().split("\\s+");
        if (cleanup.length != 2) {
            throw usage("--cleanup-at '" + cleanupAt + "' is not \"DAY HH:MM\": use e.g. \"Sun 03:00\"");
        }
        String home = context.env().getOrDefault("HOME", System.getProperty("user.home"));
        ScheduleRequest request = new ScheduleRequest(format, time("--backup-at", backupAt), day(cleanup[0]),
                time("--cleanup-at", cleanup[1]), syncHourly, launcherCommand(), settings().environmentForJobs(),
                Path.of(home, "Library", "LaunchAgents"),
                unitDir != null ? unitDir.toAbsolutePath().normalize() : Path.of(home, ".config", "systemd", "user"));
        PgBackup pg = pgBackup();
        Schedule schedule = pg.scheduler().plan(request);
        InstallResult installed = install ? pg.scheduler().install(schedule) : null;
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("schedule", schedule);
            if (installed != null) {
                out.put("installed", installed);
            }
            printJson(out);
            return 0;
        }
        if (format == ScheduleFormat.CRON) {
            out().print(schedule.crontabBlock());
        } else {
            for (Schedule.File f : schedule.files()) {
                out().println("# " + f.path());
                out().print(f.content());
            }
        }
        schedule.notes().forEach(n -> err().println("note: " + n));
        if (installed == null) {
            err().println(format == ScheduleFormat.CRON
                    ? "note: nothing installed; run with --install to merge this block into your crontab (or add it with 'crontab -e')"
                    : format == ScheduleFormat.SYSTEMD
                    ? "note: nothing written; run with --install to write the units to " + request.systemdUnitDir()
                    : "note: nothing written; run with --install to write the plists to " + request.launchAgentsDir());
        } else {
            installed.actions().forEach(a -> err().println(a));
            installed.nextSteps().forEach(s -> err().println("next: " + s));
        }
        return 0;
    }

    /** bin/pgbackup beside the build that holds this jar, else this JVM running this jar. */
    private List<String> launcherCommand() {
        if (launcher != null) {
            return List.of(launcher.toAbsolutePath().normalize().toString());
        }
        return Launcher.find().orElseThrow(() -> usage("cannot tell where pgbackup is installed: pass --launcher /path/to/bin/pgbackup"));
    }

    private static LocalTime time(String option, String value) {
        try {
            return LocalTime.parse(value.length() == 4 ? "0" + value : value);
        } catch (DateTimeParseException e) {
            throw usage(option + " '" + value + "' is not a time HH:MM: use e.g. 02:00");
        }
    }

    private static DayOfWeek day(String value) {
        String v = value.toLowerCase(Locale.ROOT);
        for (DayOfWeek d : DayOfWeek.values()) {
            String name = d.name().toLowerCase(Locale.ROOT);
            if (v.length() >= 3 && name.startsWith(v)) {
                return d;
            }
        }
        throw usage("--cleanup-at day '" + value + "' is not a weekday: use Mon, Tue, Wed, Thu, Fri, Sat or Sun");
    }

    private static PgBackupException usage(String message) {
        return new PgBackupException(ErrorCode.INVALID_ARGUMENT, message);
    }
}
