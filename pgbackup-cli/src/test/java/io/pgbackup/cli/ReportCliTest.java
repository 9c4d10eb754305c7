package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.testing.ArchivingCluster;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code report --html}: one self-contained page, opened in a real headless Chromium: it renders
 * without script errors and lists every backup {@code list --json} lists, the verification, a WAL gap and
 * what {@code check} finds.
 */
class ReportCliTest {
    @TempDir
    Path work;

    @Test
    void htmlReportRendersInChromiumWithEveryBackup() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            Map<String, String> env = source.cluster().environment(source.repository());
            source.cluster().execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g");
            assertThat(CliProcess.run(env, "backup").exitCode()).isZero();
            source.switchAndAwaitArchived();
            CliProcess.Result verify = CliProcess.run(env, "verify");
            assertThat(verify.exitCode()).as(verify.all()).isZero();
            assertThat(CliProcess.run(env, "backup").exitCode()).isZero();
            source.switchAndAwaitArchived();
            String middle = source.switchAndAwaitArchived();
            source.switchAndAwaitArchived();
            // A hole in the archive: the page must show it as a gap.
            try (Stream<Path> files = Files.walk(source.repository().resolve("wal_archive"))) {
                for (Path p : files.filter(p -> p.getFileName().toString().startsWith(middle)).toList()) {
                    Files.delete(p);
                }
            }

            CliProcess.Result list = CliProcess.run(env, "list", "--json");
            assertThat(list.exitCode()).as(list.all()).isZero();
            List<String> ids = new ArrayList<>();
            new ObjectMapper().readTree(list.stdout()).forEach(b -> ids.add(b.path("id").asText()));
            assertThat(ids).hasSize(2);

            // The Checks table shows what 'pgbackup check' finds: a free-space threshold no disk meets makes one.
            Map<String, String> strict = new java.util.HashMap<>(env);
            strict.put("PG_BACKUP_CHECK_FREE_PERCENT", "99");
            CliProcess.Result check = CliProcess.run(strict, "check", "--json");
            JsonNode checked = new ObjectMapper().readTree(check.stdout());
            assertThat(checked.path("state").asText()).as(check.all()).isIn("WARNING", "CRITICAL");
            assertThat(checked.path("findings").size()).isPositive();

            Path page = work.resolve("report.html");
            CliProcess.Result report = CliProcess.run(strict, "report", "--html", page.toString());
            assertThat(report.exitCode()).as(report.all()).isZero();
            assertThat(report.stdout()).contains("report written to " + page);
            String html = Files.readString(page);
            // Self-contained: nothing is fetched from elsewhere.
            assertThat(html).doesNotContainPattern("(src|href)=\"(https?:)?//");
            try (Stream<Path> left = Files.list(work)) {
                assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
            }

            CliProcess.Result json = CliProcess.run(env, "report", "--json");
            JsonNode model = new ObjectMapper().readTree(json.stdout());
            assertThat(model.path("walGaps").size()).isEqualTo(1);
            assertThat(model.path("backups").get(0).path("lastVerified").isNull()).isFalse();

            Path chromium = chromium();
            Path profile = Files.createDirectories(work.resolve("chromium-profile"));
            Chrome dom = chrome(profile, "--dump-dom", page.toUri().toString());
            assertThat(dom.stdout).contains("data-rendered=\"yes\"").doesNotContain("data-errors=\"");
            assertThat(dom.stderr).doesNotContain("Uncaught").doesNotContain("Refused to");
            for (String id : ids) {
                assertThat(dom.stdout).contains("data-backup-id=\"" + id + "\"");
            }
            assertThat(dom.stdout).contains("Recoverable window").contains("gap: 1 segment(s) missing")
                    .contains("not recorded").contains("OK at ").contains("<svg id=\"timeline\"");
            // The same rows as check's findings; numbers masked (free space moves between the two runs).
            String checks = checksTable(dom.stdout).replaceAll("[0-9][0-9.]*", "#");
            for (JsonNode f : checked.path("findings")) {
                assertThat(checks).contains(("<tr><td>check " + f.path("key").asText() + "</td><td class=\"" + f.path("state").asText()
                        + "\">" + f.path("state").asText() + "</td><td>" + f.path("message").asText() + "</td></tr>")
                        .replaceAll("[0-9][0-9.]*", "#"));
            }
            Path png = work.resolve("report.png");
            chrome(profile, "--screenshot=" + png, "--window-size=1200,900", page.toUri().toString());
            assertThat(png).isNotEmptyFile();
            String keep = System.getenv("PGBACKUP_REPORT_SCREENSHOT");
            if (keep != null) {
                Files.copy(png, Path.of(keep), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            assertThat(chromium).isNotNull();
        }
    }

    private record Chrome(String stdout, String stderr) {
    }

    /** The Checks table of a dumped DOM, entities of text decoded. */
    private static String checksTable(String dom) {
        String table = dom.substring(dom.indexOf("<table id=\"checks\">"));
        return table.substring(0, table.indexOf("</table>")).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
    }

    private static Path chromium() {
        for (String candidate : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return Path.of(candidate);
            }
        }
        Assumptions.abort("no chromium installed (apt-get install chromium): the browser test is skipped");
        return null;
    }

    private Chrome chrome(Path profile, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(chromium().toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0", "--user-data-dir=" + profile));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(work, "chrome", ".out");
        Path err = Files.createTempFile(work, "chrome", ".err");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("HOME", profile.toString());
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("chromium did not finish: " + Files.readString(err));
        }
        assertThat(p.exitValue()).as(Files.readString(err)).isZero();
        return new Chrome(Files.readString(out), Files.readString(err));
    }
}
