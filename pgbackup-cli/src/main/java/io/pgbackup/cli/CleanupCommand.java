package io.pgbackup.cli;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.retention.RetentionPlan;
import io.pgbackup.core.retention.RetentionResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "cleanup", description = {
        "Apply the retention policy: keep the newest PG_BACKUP_RETAIN_COUNT backups, delete older ones past",
        "PG_BACKUP_RETAIN_DAYS, and delete WAL no kept backup needs once older than PG_BACKUP_RETAIN_WAL_DAYS."})
final class CleanupCommand extends BaseCommand {
    @picocli.CommandLine.Mixin
    RepoOption repo;

    @Override
    protected io.pgbackup.core.PgBackup.RepositorySource repositorySource() {
        return repo.source();
    }

    @Option(names = "--dry-run", description = "Print the plan and change nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print the plan (or the result) as JSON.")
    boolean json;

    @Override
    protected int execute() {
        PgBackup pg = pgBackup();
        RetentionPlan plan = pg.retentionPolicy().plan();
        if (dryRun) {
            if (json) {
                printJson(plan);
            } else {
                printPlan(plan, "would delete");
                out().println("dry run: nothing was changed");
            }
            return 0;
        }
        RetentionResult result = pg.retentionPolicy().execute(plan);
        if (json) {
            printJson(result);
            return 0;
        }
        printPlan(plan, "deleted");
        result.skipped().forEach(s -> out().println("skipped   " + s));
        out().printf("cleanup done in %s: %d backup(s), %d WAL file(s), %d leftover(s) removed, %s freed%n",
                Format.duration(result.duration()), result.deletedBackups().size(), result.deletedWalFiles(),
                result.removedOrphans(), Format.bytes(result.bytesFreed()));
        return 0;
    }

    private void printPlan(RetentionPlan plan, String verb) {
        RetentionPlan.Rules r = plan.rules();
        out().printf("retention: keep the newest %d backup(s), delete others older than %d day(s); "
                + "WAL no kept backup needs goes after %d day(s)%n", r.retainCount(), r.retainDays(), r.retainWalDays());
        for (RetentionPlan.BackupDecision d : plan.keep()) {
            out().printf("keep      %s  age %-5s %9s  %s%n", d.id(), Format.age(d.age()), Format.bytes(d.bytes()), d.reason());
        }
        for (RetentionPlan.BackupDecision d : plan.delete()) {
            out().printf("%-9s %s  age %-5s %9s  %s%n", verb.equals("deleted") ? "deleted" : "delete", d.id(),
                    Format.age(d.age()), Format.bytes(d.bytes()), d.reason());
        }
        for (RetentionPlan.WalFloor f : plan.walFloors()) {
            out().printf("WAL timeline %d: keep from %s (%s)%n", f.timeline(), f.oldestKept(), f.reason());
        }
        if (!plan.walToDelete().isEmpty()) {
            long bytes = plan.walToDelete().stream().mapToLong(RetentionPlan.WalFile::bytes).sum();
            out().printf("%s %d WAL file(s), %s: %s .. %s%n", verb, plan.walToDelete().size(), Format.bytes(bytes),
                    plan.walToDelete().get(0).file(), plan.walToDelete().get(plan.walToDelete().size() - 1).file());
        }
        for (RetentionPlan.Orphan o : plan.orphans()) {
            out().printf("%s %s (%s, %s)%n", verb, o.location(), o.reason(), Format.bytes(o.bytes()));
        }
        plan.notes().forEach(n -> out().println("note: " + n));
        out().printf("%s %s%n", verb.equals("deleted") ? "freed" : "would free", Format.bytes(plan.bytesFreed()));
    }
}
