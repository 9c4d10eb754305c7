package io.pgbackup.core.schedule;

import io.pgbackup.core.schedule.JobScheduler.Schedule;
import io.pgbackup.core.schedule.JobScheduler.Schedule.ScheduleFormat;
import io.pgbackup.core.schedule.JobScheduler.InstallResult;
import io.pgbackup.core.schedule.JobScheduler.ScheduleRequest;
import io.pgbackup.core.internal.schedule.DefaultJobScheduler;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Generated cron lines and launchd plists, and idempotent crontab installation. The crontab is a
 * test-only stand-in (a script keeping the table in a temp file), so no real user's crontab is touched.
 */
class JobSchedulerTest {
    @TempDir
    Path work;
    Path repo;
    PgBackup pg;
    Map<String, String> env;

    private PgBackup pgWithCrontab(String program) {
        return PgBackup.builder(PgBackupConfig.builder().backupDir(repo).build()).crontabProgram(program).build();
    }

    @BeforeEach
    void setUp() throws Exception {
        repo = work.resolve("repo");
        new Repository(repo).createLayout();
        pg = PgBackup.create(PgBackupConfig.builder().backupDir(repo).build());
        env = Map.of("PG_USER_NAME", "backup", "PG_PASSWORD", "s3cret-never-written", "PG_PORT", "5433",
                "PG_BACKUP_DIR", repo.toString(), "HOME", "/home/x", "PATH", "/usr/bin:/bin");
    }

    private ScheduleRequest request(ScheduleFormat format, boolean sync) {
        return new ScheduleRequest(format, LocalTime.of(2, 0), DayOfWeek.SUNDAY, LocalTime.of(3, 0), sync,
                List.of("/opt/pgbackup/bin/pgbackup"), env, work.resolve("LaunchAgents"));
    }

    @Test
    void cronBlockHasTheSpecsTimesLogsAndNoPassword() {
        Schedule s = pg.scheduler().plan(request(ScheduleFormat.CRON, true));
        String block = s.crontabBlock();
        List<String> lines = block.lines().filter(l -> !l.startsWith("#")).toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).startsWith("0 2 * * * ").contains("PG_USER_NAME='backup'").contains("PG_PORT='5433'")
                .contains("'/opt/pgbackup/bin/pgbackup' 'backup' >>'" + repo + "/logs/backup-stdout.log' 2>>'" + repo + "/logs/backup-stderr.log'");
        assertThat(lines.get(1)).startsWith("0 3 * * 0 ").contains("'cleanup' >>'" + repo + "/logs/cleanup-stdout.log'");
        assertThat(lines.get(2)).startsWith("0 * * * * ").contains("'sync' >>'" + repo + "/logs/sync-stdout.log'");
        assertThat(block).startsWith(JobScheduler.BEGIN_MARK).endsWith(JobScheduler.END_MARK + "\n")
                .doesNotContain("s3cret").doesNotContain("PG_PASSWORD=").doesNotContain("HOME=");
        assertThat(s.notes()).anyMatch(n -> n.contains("~/.pgpass"));

        Schedule custom = pg.scheduler().plan(new ScheduleRequest(ScheduleFormat.CRON, LocalTime.of(23, 45), DayOfWeek.WEDNESDAY,
                LocalTime.of(4, 5), false, List.of("/x/pg%backup"), env, work));
        assertThat(custom.crontabBlock().lines().filter(l -> !l.startsWith("#")).toList())
                .satisfiesExactly(l -> assertThat(l).startsWith("45 23 * * * ").contains("'/x/pg\\%backup'"),
                        l -> assertThat(l).startsWith("5 4 * * 3 "));
    }

    @Test
    void launchdPlistsParseAsXmlWithCalendarIntervalsAndLogs() throws Exception {
        Schedule s = pg.scheduler().plan(request(ScheduleFormat.LAUNCHD, false));
        assertThat(s.files()).extracting(f -> f.path().getFileName().toString())
                .containsExactly("com.shared.pgbackup.plist", "com.shared.pgbackup-cleanup.plist");
        Map<String, String> backup = plist(s.files().get(0).content());
        assertThat(backup).containsEntry("Label", "com.shared.pgbackup")
                .containsEntry("ProgramArguments", "/opt/pgbackup/bin/pgbackup backup")
                .containsEntry("StartCalendarInterval", "Hour=2 Minute=0")
                .containsEntry("StandardOutPath", repo + "/logs/backup-stdout.log")
                .containsEntry("StandardErrorPath", repo + "/logs/backup-stderr.log");
        assertThat(backup.get("EnvironmentVariables")).contains("PG_USER_NAME=backup").doesNotContain("PASSWORD");
        Map<String, String> cleanup = plist(s.files().get(1).content());
        assertThat(cleanup).containsEntry("StartCalendarInterval", "Weekday=0 Hour=3 Minute=0")
                .containsEntry("ProgramArguments", "/opt/pgbackup/bin/pgbackup cleanup");

        InstallResult installed = pg.scheduler().install(s);
        assertThat(work.resolve("LaunchAgents/com.shared.pgbackup.plist")).hasContent(s.files().get(0).content());
        assertThat(installed.actions()).hasSize(2);
    }

    /** Top-level keys of a plist, values flattened: strings as is, arrays space-joined, dicts as k=v. */
    private static Map<String, String> plist(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        Element dict = (Element) doc.getDocumentElement().getElementsByTagName("dict").item(0);
        Map<String, String> out = new java.util.LinkedHashMap<>();
        List<Element> children = elements(dict.getChildNodes());
        for (int i = 0; i < children.size(); i += 2) {
            Element value = children.get(i + 1);
            String flat = switch (value.getTagName()) {
                case "array" -> String.join(" ", elements(value.getChildNodes()).stream().map(Element::getTextContent).toList());
                case "dict" -> {
                    List<Element> kv = elements(value.getChildNodes());
                    List<String> pairs = new ArrayList<>();
                    for (int j = 0; j < kv.size(); j += 2) {
                        pairs.add(kv.get(j).getTextContent() + "=" + kv.get(j + 1).getTextContent());
                    }
                    yield String.join(" ", pairs);
                }
                default -> value.getTextContent();
            };
            out.put(children.get(i).getTextContent(), flat);
        }
        return out;
    }

    private static List<Element> elements(NodeList nodes) {
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            if (nodes.item(i) instanceof Element e) {
                out.add(e);
            }
        }
        return out;
    }

    /** A crontab stand-in: {@code -l} prints the stored table (or "no crontab for"), {@code FILE} replaces it. */
    static Path fakeCrontab(Path dir) throws Exception {
        Path script = dir.resolve("crontab");
        Files.writeString(script, "#!/bin/sh\nstore='" + dir.resolve("table") + "'\n"
                + "if [ \"$1\" = -l ]; then [ -f \"$store\" ] && exec cat \"$store\"; echo \"no crontab for $(id -un)\" >&2; exit 1; fi\n"
                + "cp \"$1\" \"$store\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    @Test
    void installMergesIntoTheCrontabOnceKeepingOtherLines() throws Exception {
        Path fake = fakeCrontab(Files.createDirectories(work.resolve("cron")));
        JobScheduler scheduler = pgWithCrontab(fake.toString()).scheduler();
        Schedule s = scheduler.plan(request(ScheduleFormat.CRON, false));

        InstallResult first = scheduler.install(s);
        assertThat(first.actions()).singleElement().asString().startsWith("added");
        Path table = work.resolve("cron/table");
        assertThat(Files.readString(table)).isEqualTo(s.crontabBlock());

        Files.writeString(table, "MAILTO=me@example.com\n15 * * * * /usr/bin/true\n\n" + Files.readString(table) + "30 1 * * * /usr/bin/date\n");
        Schedule withSync = scheduler.plan(request(ScheduleFormat.CRON, true));
        InstallResult second = scheduler.install(withSync);
        assertThat(second.actions()).singleElement().asString().startsWith("replaced");
        InstallResult third = scheduler.install(withSync);
        String after = Files.readString(table);
        assertThat(after.split(java.util.regex.Pattern.quote(JobScheduler.BEGIN_MARK), -1)).hasSize(2);
        assertThat(after).contains("MAILTO=me@example.com\n15 * * * * /usr/bin/true\n").contains("\n30 1 * * * /usr/bin/date\n")
                .endsWith(withSync.crontabBlock()).contains("'sync'");
        assertThat(third.actions()).singleElement().asString().startsWith("replaced");
    }

    @Test
    void mergeIsPureAndIdempotent() {
        String block = JobScheduler.BEGIN_MARK + "\n0 2 * * * x\n" + JobScheduler.END_MARK + "\n";
        String once = DefaultJobScheduler.merge("1 1 * * * a\n", block);
        assertThat(DefaultJobScheduler.merge(once, block)).isEqualTo(once).isEqualTo("1 1 * * * a\n\n" + block);
        assertThat(DefaultJobScheduler.merge("", block)).isEqualTo(block);
    }
}
