package io.pgbackup.core.internal.schedule;

import io.pgbackup.core.schedule.JobScheduler.ScheduleRequest;
import io.pgbackup.core.schedule.JobScheduler.Schedule;
import io.pgbackup.core.PgBackupVersion;
import io.pgbackup.core.config.EnvSettings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The jobs as systemd user units: per job a {@code .service} ({@code Type=oneshot}, the same
 * command, variables and logs as the cron line) and a {@code .timer} ({@code OnCalendar=} the cron
 * schedule, {@code Persistent=true}: a run missed while the machine was off happens at the next
 * boot). Units are named {@code pgbackup-<job>}, or {@code pgbackup-<name>-<job>} when the settings
 * come from a configuration file {@code <name>.env}, so each cluster's file gets its own timers.
 * The configuration file reaches the job as {@code PG_BACKUP_CONFIG}, not {@code EnvironmentFile=}:
 * pgbackup reads it with its own checks (secrets only in a private file) and reports it in status.
 */
final class SystemdUnits {
    static final String HEADER = "# Written by 'pgbackup schedule --systemd'";

    private SystemdUnits() {
    }

    /** {@code pgbackup}, or {@code pgbackup-<config file name without extension>}. */
    static String prefix(ScheduleRequest request) {
        String file = request.environment().get(EnvSettings.PG_BACKUP_CONFIG);
        if (file == null || file.isBlank()) {
            return "pgbackup";
        }
        String name = Path.of(file).getFileName().toString();
        int dot = name.lastIndexOf('.');
        name = dot > 0 ? name.substring(0, dot) : name;
        String safe = name.replaceAll("[^A-Za-z0-9_.-]", "_");
        return safe.isEmpty() || safe.equals("pgbackup") ? "pgbackup" : "pgbackup-" + safe;
    }

    static List<Schedule.File> files(List<Schedule.Job> jobs, ScheduleRequest request) {
        String prefix = prefix(request);
        List<Schedule.File> out = new ArrayList<>();
        for (Schedule.Job job : jobs) {
            String unit = prefix + "-" + job.name();
            out.add(new Schedule.File(request.systemdUnitDir().resolve(unit + ".service"), service(job)));
            out.add(new Schedule.File(request.systemdUnitDir().resolve(unit + ".timer"), timer(job, unit, request)));
        }
        return out;
    }

    private static String service(Schedule.Job job) {
        StringBuilder s = new StringBuilder(HEADER).append(" (pgbackup ").append(PgBackupVersion.get())
                .append("); re-running it rewrites this file.\n");
        s.append("[Unit]\nDescription=pgbackup ").append(specifiers(job.name())).append(", ").append(specifiers(job.when()))
                .append("\n\n[Service]\nType=oneshot\n");
        job.environment().forEach((k, v) -> s.append("Environment=").append(quote(k + "=" + v)).append('\n'));
        s.append("ExecStart=");
        for (int i = 0; i < job.command().size(); i++) {
            s.append(i == 0 ? "" : " ").append(quote(job.command().get(i)).replace("$", "$$"));
        }
        s.append('\n')
                .append("StandardOutput=append:").append(specifiers(job.stdoutLog().toString())).append('\n')
                .append("StandardError=append:").append(specifiers(job.stderrLog().toString())).append('\n');
        return s.toString();
    }

    private static String timer(Schedule.Job job, String unit, ScheduleRequest request) {
        String calendar = switch (job.name()) {
            case "backup" -> "*-*-* " + time(request.backupAt().getHour(), request.backupAt().getMinute());
            case "cleanup" -> request.cleanupDay().name().substring(0, 1)
                    + request.cleanupDay().name().substring(1, 3).toLowerCase(Locale.ROOT)
                    + " *-*-* " + time(request.cleanupAt().getHour(), request.cleanupAt().getMinute());
            default -> "*-*-* *:00:00";
        };
        return HEADER + " (pgbackup " + PgBackupVersion.get() + "); re-running it rewrites this file.\n"
                + "[Unit]\nDescription=pgbackup " + job.name() + " timer, " + specifiers(job.when()) + "\n\n"
                + "[Timer]\nOnCalendar=" + calendar + "\nPersistent=true\nUnit=" + unit + ".service\n\n"
                + "[Install]\nWantedBy=timers.target\n";
    }

    /** What to run after {@code --install} wrote the units. */
    static List<String> nextSteps(List<Schedule.File> files) {
        List<String> timers = files.stream().map(f -> f.path().getFileName().toString()).filter(n -> n.endsWith(".timer")).toList();
        return List.of("systemctl --user daemon-reload",
                "systemctl --user enable --now " + String.join(" ", timers),
                "loginctl enable-linger $USER   (so the timers run while you are logged out)",
                "check with: systemctl --user list-timers 'pgbackup*'");
    }

    private static String time(int hour, int minute) {
        return String.format(Locale.ROOT, "%02d:%02d:00", hour, minute);
    }

    /** One double-quoted word: systemd reads C escapes in it and expands {@code %} specifiers. */
    private static String quote(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                case '%' -> out.append("%%");
                default -> out.append(c);
            }
        }
        return out.append('"').toString();
    }

    private static String specifiers(String value) {
        return value.replace("%", "%%");
    }
}
