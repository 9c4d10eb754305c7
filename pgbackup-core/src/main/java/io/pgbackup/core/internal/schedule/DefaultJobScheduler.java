package io.pgbackup.core.internal.schedule;

import io.pgbackup.core.schedule.JobScheduler.InstallResult;
import io.pgbackup.core.schedule.JobScheduler;
import io.pgbackup.core.schedule.JobScheduler.Schedule.ScheduleFormat;
import io.pgbackup.core.schedule.JobScheduler.ScheduleRequest;
import io.pgbackup.core.schedule.JobScheduler.Schedule;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.archive.ArchiveScripts;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.process.ProcessRunner.ProcessResult;
import io.pgbackup.core.process.ProcessRunner.ProcessSpec;
import io.pgbackup.core.internal.storage.AtomicFiles;
import io.pgbackup.core.internal.storage.Repository;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The spec's scheduled jobs: a daily backup, a weekly cleanup and optionally an hourly sync, as a
 * marked crontab block, as systemd user timers ({@link SystemdUnits}) or as launchd agents ({@code com.shared.pgbackup.plist},
 * {@code com.shared.pgbackup-cleanup.plist}, {@code com.shared.pgbackup-sync.plist}). Each job
 * logs to {@code logs/<job>-stdout.log} and {@code logs/<job>-stderr.log}. The jobs carry the
 * {@code PG_*} settings they need except the password, which must come from {@code ~/.pgpass}:
 * no secret is ever written into a crontab or a plist.
 *
 * <p>{@link #plan} only computes; {@link #install} merges the block into the user's crontab
 * ({@code crontab -l}, then {@code crontab FILE}) replacing an earlier block, or writes the plists.
 */
public final class DefaultJobScheduler implements JobScheduler {
    private static final List<String> SECRET_VARIABLES = List.of(PgBackupConfig.PG_PASSWORD, "PGPASSWORD");

    private final PgBackupContext context;
    private final String crontabProgram;

    public DefaultJobScheduler(PgBackupContext context) {
        this(context, "crontab");
    }

    /** {@code crontabProgram}: the crontab command (a path, or a name looked up on PATH). */
    public DefaultJobScheduler(PgBackupContext context, String crontabProgram) {
        this.context = context;
        this.crontabProgram = crontabProgram;
    }

    @Override
    public Schedule plan(ScheduleRequest request) {
        Repository repository = context.repository();
        Map<String, String> env = new TreeMap<>();
        request.environment().forEach((k, v) -> {
            if ((k.startsWith("PG") || k.equals("PATH") || k.equals("JAVA_HOME")) && !SECRET_VARIABLES.contains(k)) {
                env.put(k, v);
            }
        });
        env.put(PgBackupConfig.PG_BACKUP_DIR, repository.root().toString());
        List<Schedule.Job> jobs = new ArrayList<>();
        jobs.add(job("backup", LABEL, request, "daily at " + request.backupAt(), env, repository));
        jobs.add(job("cleanup", LABEL + "-cleanup", request, "every " + dayName(request.cleanupDay()) + " at "
                + request.cleanupAt(), env, repository));
        if (request.hourlySync()) {
            jobs.add(job("sync", LABEL + "-sync", request, "every hour at minute 0", env, repository));
        }
        List<String> notes = new ArrayList<>();
        if (request.environment().containsKey(PgBackupConfig.PG_PASSWORD)) {
            notes.add("PG_PASSWORD is not written into the jobs: put the password in ~/.pgpass of the user the jobs run as "
                    + "(line host:port:database:user:password, chmod 600)");
        }
        if (request.format() == ScheduleFormat.CRON) {
            return new Schedule(request.format(), jobs, cronBlock(jobs, request), List.of(), notes);
        }
        if (request.format() == ScheduleFormat.SYSTEMD) {
            return new Schedule(request.format(), jobs, "", SystemdUnits.files(jobs, request), notes);
        }
        List<Schedule.File> files = new ArrayList<>();
        for (Schedule.Job job : jobs) {
            files.add(new Schedule.File(request.launchAgentsDir().resolve(job.label() + ".plist"), plist(job, request)));
        }
        return new Schedule(request.format(), jobs, "", files, notes);
    }

    private static Schedule.Job job(String name, String label, ScheduleRequest request, String when,
                                    Map<String, String> env, Repository repository) {
        List<String> command = new ArrayList<>(request.launcher());
        command.add(name);
        return new Schedule.Job(name, label, command, when, repository.logsDir().resolve(name + "-stdout.log"),
                repository.logsDir().resolve(name + "-stderr.log"), env);
    }

    private static String dayName(DayOfWeek day) {
        String name = day.name().toLowerCase(Locale.ROOT);
        return Character.toUpperCase(name.charAt(0)) + name.substring(1);
    }

    private static String cronBlock(List<Schedule.Job> jobs, ScheduleRequest request) {
        // Each configuration file (one per cluster) has its own block, so installing one cluster's
        // jobs does not replace another's.
        String file = request.environment().getOrDefault(io.pgbackup.core.config.EnvSettings.PG_BACKUP_CONFIG, "");
        String begin = file.isBlank() ? BEGIN_MARK : BEGIN_MARK.replace("jobs (", "jobs for " + file + " (");
        String end = file.isBlank() ? END_MARK : END_MARK + " for " + file;
        StringBuilder out = new StringBuilder(begin).append('\n');
        for (Schedule.Job job : jobs) {
            String timing = switch (job.name()) {
                case "backup" -> request.backupAt().getMinute() + " " + request.backupAt().getHour() + " * * *";
                case "cleanup" -> request.cleanupAt().getMinute() + " " + request.cleanupAt().getHour() + " * * "
                        + request.cleanupDay().getValue() % 7;
                default -> "0 * * * *";
            };
            StringBuilder line = new StringBuilder();
            job.environment().forEach((k, v) -> line.append(k).append('=').append(ArchiveScripts.shellQuote(v)).append(' '));
            for (String word : job.command()) {
                line.append(ArchiveScripts.shellQuote(word)).append(' ');
            }
            line.append(">>").append(ArchiveScripts.shellQuote(job.stdoutLog().toString()))
                    .append(" 2>>").append(ArchiveScripts.shellQuote(job.stderrLog().toString()));
            // cron turns an unescaped % into a newline.
            out.append("# pgbackup ").append(job.name()).append(", ").append(job.when()).append('\n')
                    .append(timing).append(' ').append(line.toString().replace("%", "\\%")).append('\n');
        }
        return out.append(end).append('\n').toString();
    }

    private static String plist(Schedule.Job job, ScheduleRequest request) {
        StringBuilder x = new StringBuilder();
        x.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                .append("<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n")
                .append("<plist version=\"1.0\">\n<dict>\n")
                .append("  <key>Label</key>\n  <string>").append(xml(job.label())).append("</string>\n")
                .append("  <key>ProgramArguments</key>\n  <array>\n");
        job.command().forEach(w -> x.append("    <string>").append(xml(w)).append("</string>\n"));
        x.append("  </array>\n  <key>EnvironmentVariables</key>\n  <dict>\n");
        job.environment().forEach((k, v) -> x.append("    <key>").append(xml(k)).append("</key>\n    <string>")
                .append(xml(v)).append("</string>\n"));
        x.append("  </dict>\n  <key>StartCalendarInterval</key>\n  <dict>\n");
        switch (job.name()) {
            case "backup" -> calendar(x, null, request.backupAt());
            case "cleanup" -> calendar(x, request.cleanupDay(), request.cleanupAt());
            default -> x.append("    <key>Minute</key>\n    <integer>0</integer>\n");
        }
        x.append("  </dict>\n")
                .append("  <key>StandardOutPath</key>\n  <string>").append(xml(job.stdoutLog().toString())).append("</string>\n")
                .append("  <key>StandardErrorPath</key>\n  <string>").append(xml(job.stderrLog().toString())).append("</string>\n")
                .append("</dict>\n</plist>\n");
        return x.toString();
    }

    private static void calendar(StringBuilder x, DayOfWeek day, LocalTime at) {
        if (day != null) {
            // launchd: 0 and 7 are Sunday.
            x.append("    <key>Weekday</key>\n    <integer>").append(day.getValue() % 7).append("</integer>\n");
        }
        x.append("    <key>Hour</key>\n    <integer>").append(at.getHour()).append("</integer>\n")
                .append("    <key>Minute</key>\n    <integer>").append(at.getMinute()).append("</integer>\n");
    }

    private static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Installs {@code schedule}: merges the crontab block, or writes the plists. */
    @Override
    public InstallResult install(Schedule schedule) {
        try {
            Files.createDirectories(context.repository().logsDir());
            return switch (schedule.format()) {
                case CRON -> installCron(schedule);
                case LAUNCHD -> installLaunchd(schedule);
                case SYSTEMD -> installSystemd(schedule);
            };
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot install the schedule: " + e.getMessage(), e);
        }
    }

    private InstallResult installCron(Schedule schedule) throws IOException {
        String current = readCrontab();
        String merged = merge(current, schedule.crontabBlock());
        boolean replaced = current.lines().anyMatch(l -> l.equals(schedule.crontabBlock().lines().findFirst().orElse("")));
        Path file = Files.createTempFile("pgbackup-crontab-", ".txt",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(file, merged, StandardCharsets.UTF_8);
            ProcessResult result = runCrontab(ProcessSpec.of(crontabProgram, file.toString()));
            if (!result.succeeded()) {
                throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "crontab refused the new table: "
                        + result.lastErrorLine() + "; your crontab is unchanged");
            }
        } finally {
            Files.deleteIfExists(file);
        }
        return new InstallResult(List.of((replaced ? "replaced" : "added") + " the pgbackup block in the crontab ("
                + schedule.jobs().size() + " jobs)"), List.of("check with: crontab -l"));
    }

    /** {@code current} with any earlier block of the same marks (its first and last line) removed and {@code block} appended. */
    public static String merge(String current, String block) {
        List<String> marks = block.lines().toList();
        String begin = marks.get(0);
        String end = marks.get(marks.size() - 1);
        StringBuilder kept = new StringBuilder();
        boolean inside = false;
        for (String line : current.split("\n", -1)) {
            if (line.equals(begin)) {
                inside = true;
            } else if (line.equals(end)) {
                inside = false;
            } else if (!inside) {
                kept.append(line).append('\n');
            }
        }
        String before = kept.toString().replaceAll("\n+$", "");
        return (before.isEmpty() ? "" : before + "\n\n") + block;
    }

    private String readCrontab() throws IOException {
        ProcessResult result = runCrontab(ProcessSpec.of(crontabProgram, "-l"));
        if (result.succeeded()) {
            return result.stdout();
        }
        if (result.stderr().toLowerCase(Locale.ROOT).contains("no crontab for")) {
            return "";
        }
        throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "cannot read the crontab: " + result.lastErrorLine()
                + "; nothing was changed");
    }

    private ProcessResult runCrontab(ProcessSpec spec) {
        try {
            return context.processRunner().run(spec);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "crontab could not be run (" + e.getMessage()
                    + "): install cron (Debian: apt-get install cron), or add the printed lines by hand with 'crontab -e'", e);
        }
    }

    /** Writes each unit unless it already holds exactly that text, so a re-run changes nothing. */
    private InstallResult installSystemd(Schedule schedule) throws IOException {
        List<String> actions = new ArrayList<>();
        for (Schedule.File f : schedule.files()) {
            byte[] content = f.content().getBytes(StandardCharsets.UTF_8);
            if (Files.isRegularFile(f.path()) && java.util.Arrays.equals(Files.readAllBytes(f.path()), content)) {
                actions.add("unchanged " + f.path());
                continue;
            }
            boolean existed = Files.exists(f.path());
            Files.createDirectories(f.path().getParent());
            AtomicFiles.write(f.path(), content);
            actions.add((existed ? "updated " : "wrote ") + f.path());
        }
        return new InstallResult(actions, SystemdUnits.nextSteps(schedule.files()));
    }

    private InstallResult installLaunchd(Schedule schedule) throws IOException {
        List<String> actions = new ArrayList<>();
        List<String> next = new ArrayList<>();
        for (Schedule.File f : schedule.files()) {
            Files.createDirectories(f.path().getParent());
            AtomicFiles.write(f.path(), f.content().getBytes(StandardCharsets.UTF_8));
            actions.add("wrote " + f.path());
            next.add("launchctl bootstrap gui/$(id -u) " + f.path());
        }
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("mac")) {
            next.add(0, "launchctl is macOS-only: on this system the plists are not loaded; use --cron here");
        }
        return new InstallResult(actions, next);
    }
}
