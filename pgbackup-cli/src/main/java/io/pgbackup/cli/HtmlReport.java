package io.pgbackup.cli;

import io.pgbackup.core.report.ReportModel;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Renders a {@link ReportModel} as one self-contained HTML page: inline CSS, an inline SVG time
 * line, no scripts or fonts fetched from anywhere. Every text from the repository is escaped.
 */
final class HtmlReport {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT);
    private static final int WIDTH = 1000;
    private static final int LEFT = 20;

    private HtmlReport() {
    }

    static String render(ReportModel m) {
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">")
                .append("<title>pgbackup report: ").append(esc(m.repositoryLocation())).append("</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}")
                .append("table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;white-space:nowrap}")
                .append("th{background:#f2f2f2}.OK{color:#1a7f37}.WARN,.WARNING,.UNKNOWN{color:#9a6700}.FAIL,.CRITICAL{color:#cf222e}")
                .append(".verdict{font-weight:bold}svg text{font-size:11px;font-family:system-ui,sans-serif}</style>\n")
                // Script errors land in the page itself, so a headless browser's DOM shows whether it rendered cleanly.
                .append("<script>window.pgbackupErrors=[];window.onerror=function(msg){window.pgbackupErrors.push(String(msg));")
                .append("document.documentElement.setAttribute('data-errors',window.pgbackupErrors.join(' | '));};</script>")
                .append("</head>\n<body>\n");
        h.append("<h1>pgbackup report</h1>\n<p>Repository <code>").append(esc(m.repositoryLocation())).append("</code>, generated ")
                .append(time(m.generatedAt())).append(". Verdict: <span class=\"verdict ").append(esc(m.verdict())).append("\">")
                .append(esc(m.verdict())).append("</span></p>\n");
        h.append("<h2>Recoverable window</h2>\n<p id=\"window\">");
        if (m.window() == null) {
            h.append("No backup has its WAL archived: nothing is recoverable yet.");
        } else {
            h.append("From ").append(time(m.window().from())).append(" to ").append(time(m.window().to())).append(".");
        }
        h.append("</p>\n");
        timeline(h, m);
        backups(h, m);
        wal(h, m);
        findings(h, m.findings());
        h.append("<script>document.documentElement.setAttribute('data-rendered','yes');</script>\n</body></html>\n");
        return h.toString();
    }

    private static void timeline(StringBuilder h, ReportModel m) {
        List<OffsetDateTime> times = new ArrayList<>();
        m.backups().forEach(b -> {
            times.add(b.start());
            times.add(b.end());
        });
        m.walRanges().forEach(r -> {
            times.add(r.firstArchived());
            times.add(r.lastArchived());
        });
        times.removeIf(Objects::isNull);
        if (times.isEmpty()) {
            h.append("<p>Nothing to draw: no backups and no archived WAL.</p>\n");
            return;
        }
        OffsetDateTime min = times.stream().min(OffsetDateTime::compareTo).orElseThrow();
        OffsetDateTime max = times.stream().max(OffsetDateTime::compareTo).orElseThrow();
        double span = Math.max(1, Duration.between(min, max).toMillis());
        int height = 120 + 16 * m.backups().size();
        h.append("<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH + 2 * LEFT)
                .append("\" height=\"").append(height).append("\" role=\"img\" aria-label=\"time line\">\n")
                .append("<text x=\"").append(LEFT).append("\" y=\"14\">").append(time(min)).append("</text>")
                .append("<text x=\"").append(LEFT + WIDTH).append("\" y=\"14\" text-anchor=\"end\">").append(time(max)).append("</text>\n");
        if (m.window() != null) {
            rect(h, x(m.window().from(), min, span), x(m.window().to(), min, span), 22, height - 30, "#dbeafe",
                    "recoverable window " + time(m.window().from()) + " to " + time(m.window().to()));
        }
        h.append("<text x=\"").append(LEFT).append("\" y=\"38\">archived WAL</text>\n");
        for (ReportModel.WalRange r : m.walRanges()) {
            rect(h, x(r.firstArchived(), min, span), x(r.lastArchived(), min, span), 44, 14, "#2da44e",
                    "WAL " + r.first() + ".." + r.last() + " (" + r.files() + " files)");
        }
        for (ReportModel.WalGap g : m.walGaps()) {
            rect(h, x(g.afterArchived(), min, span), x(g.beforeArchived(), min, span), 40, 22, "#cf222e",
                    "gap: " + g.missing() + " segment(s) missing after " + g.after());
        }
        h.append("<text x=\"").append(LEFT).append("\" y=\"80\">backups</text>\n");
        int y = 86;
        for (ReportModel.Backup b : m.backups()) {
            double x0 = x(b.start(), min, span);
            rect(h, x0, x(b.end(), min, span), y, 10, "#0969da", "backup " + b.id());
            h.append("<text x=\"").append(fmt(Math.min(x0 + 6, LEFT + WIDTH - 120))).append("\" y=\"").append(y + 9).append("\">")
                    .append(esc(b.id())).append("</text>\n");
            y += 16;
        }
        h.append("</svg>\n");
    }

    private static void rect(StringBuilder h, double x0, double x1, int y, int height, String fill, String title) {
        h.append("<rect x=\"").append(fmt(x0)).append("\" y=\"").append(y).append("\" width=\"").append(fmt(Math.max(3, x1 - x0)))
                .append("\" height=\"").append(height).append("\" fill=\"").append(fill).append("\"><title>").append(esc(title))
                .append("</title></rect>\n");
    }

    private static double x(OffsetDateTime t, OffsetDateTime min, double span) {
        return t == null ? LEFT : LEFT + WIDTH * Duration.between(min, t).toMillis() / span;
    }

    private static void backups(StringBuilder h, ReportModel m) {
        h.append("<h2>Backups</h2>\n");
        if (m.backups().isEmpty()) {
            h.append("<p>No backups yet.</p>\n");
            return;
        }
        h.append("<table id=\"backups\"><tr><th>ID</th><th>Start</th><th>Duration</th><th>Stored</th><th>Database</th>")
                .append("<th>WAL</th><th>Last verification</th><th>Recoverable until</th></tr>\n");
        for (ReportModel.Backup b : m.backups()) {
            String verification = b.lastVerified() == null ? "not recorded"
                    : (Boolean.TRUE.equals(b.lastVerifyOk()) ? "OK" : "FAILED") + " at " + time(b.lastVerified())
                    + (b.provenAt() != null ? ", restore test passed " + time(b.provenAt()) : "");
            h.append("<tr data-backup-id=\"").append(esc(b.id())).append("\"><td>").append(esc(b.id())).append("</td><td>")
                    .append(time(b.start())).append("</td><td>").append(esc(Format.duration(Duration.ofMillis(b.durationMillis()))))
                    .append("</td><td>").append(esc(Format.bytes(b.storedBytes()))).append("</td><td>")
                    .append(esc(Format.bytes(b.databaseBytes()))).append("</td><td>").append(esc(b.startWal())).append("..")
                    .append(esc(b.stopWal())).append("</td><td>").append(esc(verification)).append("</td><td>")
                    .append(b.recoverableUntil() == null ? "WAL missing" : time(b.recoverableUntil())).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void wal(StringBuilder h, ReportModel m) {
        h.append("<h2>Archived WAL</h2>\n<table id=\"wal\"><tr><th>Timeline</th><th>From</th><th>To</th><th>Files</th><th>Archived</th></tr>\n");
        for (ReportModel.WalRange r : m.walRanges()) {
            h.append("<tr><td>").append(r.timeline()).append("</td><td>").append(esc(r.first())).append("</td><td>")
                    .append(esc(r.last())).append("</td><td>").append(r.files()).append("</td><td>").append(time(r.firstArchived()))
                    .append(" to ").append(time(r.lastArchived())).append("</td></tr>\n");
        }
        for (ReportModel.WalGap g : m.walGaps()) {
            h.append("<tr class=\"FAIL\"><td>").append(g.timeline()).append("</td><td colspan=\"4\">gap: ").append(g.missing())
                    .append(" segment(s) missing between ").append(esc(g.after())).append(" and ").append(esc(g.before()))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    /** The checks section: fed by the model's findings, so any check's findings appear here. */
    private static void findings(StringBuilder h, List<ReportModel.Finding> findings) {
        h.append("<h2>Checks</h2>\n<table id=\"checks\"><tr><th>Source</th><th>Result</th><th>Finding</th></tr>\n");
        for (ReportModel.Finding f : findings) {
            h.append("<tr><td>").append(esc(f.source())).append("</td><td class=\"").append(esc(f.severity())).append("\">")
                    .append(esc(f.severity())).append("</td><td>").append(esc(f.message())).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static String time(OffsetDateTime t) {
        return t == null ? "unknown" : esc(TIME.format(t.withOffsetSameInstant(java.time.ZoneOffset.UTC)));
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
