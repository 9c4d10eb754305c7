package io.pgbackup.cli;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.restore.RestorePlan;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetTimeline;
import io.pgbackup.core.restore.RestorePlanner.RestoreResult;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Optional;

@Command(name = "restore", mixinStandardHelpOptions = true, description = {
        "Restore a backup, to the end of the archived WAL or to a point in time.",
        "PostgreSQL must be stopped. With no ID: the newest backup that ends before the target."})
final class RestoreCommand extends BaseCommand {
    @picocli.CommandLine.Mixin
    RepoOption repo;

    @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "Backup id (see 'pgbackup list').")
    String id;

    @Option(names = "--target-time", paramLabel = "TIME", description = "\"YYYY-MM-DD HH:MM:SS\" (local time) or ISO-8601 with offset.")
    String targetTime;

    @Option(names = "--target-lsn", paramLabel = "LSN", description = "A WAL location such as 0/3000028.")
    String targetLsn;

    @Option(names = "--target-xid", paramLabel = "XID", description = "A transaction id.")
    String targetXid;

    @Option(names = "--target-name", paramLabel = "NAME", description = "A restore point made with pg_create_restore_point().")
    String targetName;

    @Option(names = "--target", paramLabel = "immediate", description = "immediate: stop as soon as the backup is consistent.")
    String target;

    @Option(names = "--target-action", paramLabel = "ACTION", defaultValue = "promote",
            description = "promote (default), pause or shutdown, once the target is reached.")
    String action;

    @Option(names = "--target-timeline", paramLabel = "latest|current|N", description = {"The timeline replay follows"
            + " (recovery_target_timeline): latest (default), current (the backup's own) or a number.",
            "After a restore that promoted, current replays the original timeline past the point the copy branched off."})
    String targetTimeline;

    @Option(names = "--target-dir", paramLabel = "DIR", description = "Where to restore (default: PGDATA). Must be empty or new (with --delta: a stopped copy of this cluster).")
    Path targetDir;

    @Option(names = "--move-aside", description = {"When the target is the stopped cluster's own PGDATA, rename it to PGDATA.pre-restore-<time> first,"
            + " and each non-empty tablespace directory likewise."})
    boolean moveAside;

    @Option(names = "--tablespace-mapping", paramLabel = "OLD=NEW", description = {"Restore the tablespace that was in directory OLD into NEW"
            + " (repeatable; absolute paths, a '=' in a path as \\=).", "Default: each tablespace back where it was."})
    java.util.List<String> tablespaceMapping = new java.util.ArrayList<>();

    @Option(names = "--archive-mode", paramLabel = "off|preserve", description = {"Archiving in the restored copy: off writes"
            + " archive_mode = off, preserve keeps the backup's.", "Default: preserve when restoring into PGDATA, else off"
            + " (a copy beside the cluster must not archive into its repository)."})
    String archiveMode;

    @Option(names = "--delta", description = {"Rewrite an existing, stopped data directory of the same cluster (and its tablespaces)"
            + " in place: files that match are kept, changed blocks rewritten, files the backup lacks removed."})
    boolean delta;

    @Option(names = "--dry-run", description = "Print the plan and change nothing.")
    boolean dryRun;

    @picocli.CommandLine.Mixin
    ProgressOption progress;

    @Option(names = "--json", description = "Print the plan (or the result) as JSON.")
    boolean json;

    @Override
    protected int execute() {
        RestoreRequest request = new RestoreRequest(Optional.ofNullable(id),
                RestoreRequest.target(targetTime, targetLsn, targetXid, targetName, target), TargetAction.parse(action),
                Optional.ofNullable(targetDir), moveAside, RestoreRequest.parseTablespaceMapping(tablespaceMapping),
                Optional.ofNullable(archiveMode).map(io.pgbackup.core.restore.RestorePlan.ArchiveMode::parse)).withDelta(delta)
                .withTimeline(TargetTimeline.parse(targetTimeline));
        PgBackup pg = pgBackup();
        RestorePlan plan = pg.restorePlanner().plan(request);
        if (dryRun) {
            if (json) {
                printJson(plan);
            } else {
                printPlan(plan, "would restore");
                out().println("dry run: nothing was changed");
            }
            return 0;
        }
        if (!json) {
            printPlan(plan, "restoring");
        }
        ProgressBar bar = progress.bar("restore", err());
        RestoreResult result = pg.restorePlanner().execute(plan, bar);
        if (!json || Boolean.TRUE.equals(progress.progress)) {
            bar.finish();
        }
        if (json) {
            printJson(result);
            return 0;
        }
        out().printf("restored %s into %s in %s (%s written)%n", plan.backup().id(), plan.targetDir(),
                Format.duration(result.duration()), Format.bytes(result.bytesWritten()));
        out().println("next:");
        result.nextSteps().forEach(step -> out().println("  - " + step));
        return 0;
    }

    private void printPlan(RestorePlan plan, String verb) {
        out().printf("%s backup %s (ended %s) into %s%n", verb, plan.backup().id(), plan.backup().manifest().endTime(), plan.targetDir());
        out().println("  target:   " + plan.target().describe()
                + (plan.recoverySettings().containsKey("recovery_target_action") ? ", then " + plan.action().setting() : ", then promote"));
        out().println("  timeline: " + plan.timeline() + (plan.timeline() == plan.backup().manifest().timeline() ? " (the backup's own)"
                : " (branched from the backup's " + plan.backup().manifest().timeline() + ")")
                + ", recovery_target_timeline = '" + plan.recoverySettings().get("recovery_target_timeline") + "'");
        plan.moveAsideTo().ifPresent(p -> out().println("  first:    rename " + plan.targetDir() + " to " + p));
        plan.tablespaces().forEach(t -> out().println("  tablespace " + t.oid() + ": " + t.location()
                + (t.relocated() ? " (was " + t.originalLocation() + ")" : " (where it was)")
                + t.moveAsideTo().map(p -> ", first renaming the existing one to " + p).orElse("")));
        long missing = plan.wal().stream().filter(w -> !w.present()).count();
        out().println("  WAL:      " + plan.backup().manifest().startWalFile() + ".." + plan.backup().manifest().stopWalFile()
                + " from the backup" + (plan.wal().isEmpty() ? "" : ", then " + plan.wal().size() + " archived segments "
                + plan.wal().get(0).segment() + ".." + plan.wal().get(plan.wal().size() - 1).segment()
                + (missing == 0 ? " (all present)" : " (" + missing + " missing)")));
        out().println("  archiving: " + plan.archivingNote());
        out().println("  writes:");
        plan.filesToWrite().forEach(f -> out().println("    " + f));
        out().println("  postgresql.auto.conf:");
        plan.recoverySettings().forEach((k, v) -> out().println("    " + k + " = '" + v + "'"));
        plan.warnings().forEach(w -> out().println("  warning:  " + w));
    }
}
