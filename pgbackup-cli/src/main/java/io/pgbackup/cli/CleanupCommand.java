package io.pgbackup.cli;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;
import io.pgbackup.core.retention.RetentionPolicy.RetentionResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "cleanup", mixinStandardHelpOptions = true, description = {
        "Apply the retention policy to backups and archived WAL.",
        "Keeps the newest PG_BACKUP_RETAIN_COUNT backups, deletes older ones past PG_BACKUP_RETAIN_DAYS, "
                + "and deletes WAL no kept backup needs once older than PG_BACKUP_RETAIN_WAL_DAYS."})
final class CleanupCommand extends BaseCommand {
    @picocli.CommandLine.Mixin
    RepoOption repo;

    @Option(names = "--dry-run", description = "Print the plan and change nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print the plan (or the result) as JSON.")
    boolean json;

    @picocli.CommandLine.Mixin
    ProgressOption progress;

    @Override
    protected int execute() {
        PgBackup pg = pgBackup();
        // Without --repo, a configured bucket (the offsite copy) gets the same policy after the local
        // repository: sync never deletes, so the bucket would otherwise keep everything forever.
        PgBackup bucket = repo.source() == PgBackup.RepositorySource.AUTO && !repo.given() && pg.config().s3().isPresent()
                && !pg.readsBucket() ? PgBackup.builder(config()).repositorySource(PgBackup.RepositorySource.S3).build() : null;
        RetentionPlan plan = pg.retentionPolicy().plan();
        RetentionPlan bucketPlan = null;
        io.pgbackup.core.PgBackupException bucketFailure = null;
        try {
            bucketPlan = bucket == null ? null : bucket.retentionPolicy().plan();
        } catch (io.pgbackup.core.PgBackupException e) {
            bucketFailure = e; // an unreachable bucket never stops the local repository's cleanup
        }
        if (bucketFailure != null) {
            if (dryRun) {
                printPlan(plan, "would delete", pg.repositoryLocation());
            } else {
                printResult(plan, execute(pg, plan, "cleanup"), pg.repositoryLocation());
            }
            throw new io.pgbackup.core.PgBackupException(bucketFailure.code(), "cleanup of " + pg.repositoryLocation()
                    + (dryRun ? " planned above" : " is done") + "; of " + bucket.repositoryLocation() + " it failed: "
                    + bucketFailure.getMessage(), bucketFailure);
        }
        if (dryRun) {
            if (json) {
                printJson(bucket == null ? plan : java.util.Map.of("local", plan, "s3", bucketPlan));
            } else {
                printPlan(plan, "would delete", bucket == null ? null : pg.repositoryLocation());
                if (bucket != null) {
                    printPlan(bucketPlan, "would delete", bucket.repositoryLocation());
                }
                out().println("dry run: nothing was changed");
            }
            return 0;
        }
        RetentionResult result = execute(pg, plan, "cleanup");
        RetentionResult bucketResult;
        try {
            bucketResult = bucket == null ? null : execute(bucket, bucketPlan, "cleanup of the bucket");
        } catch (io.pgbackup.core.PgBackupException e) {
            throw new io.pgbackup.core.PgBackupException(e.code(), "cleanup of " + pg.repositoryLocation() + " is done; of "
                    + bucket.repositoryLocation() + " it failed: " + e.getMessage(), e);
        }
        if (json) {
            printJson(bucket == null ? result : java.util.Map.of("local", result, "s3", bucketResult));
            return 0;
        }
        printResult(plan, result, bucket == null ? null : pg.repositoryLocation());
        if (bucket != null) {
            printResult(bucketPlan, bucketResult, bucket.repositoryLocation());
        }
        return 0;
    }

    /** Executes {@code plan} with a progress bar (or its summary line) named {@code phase}. */
    private RetentionResult execute(PgBackup pg, RetentionPlan plan, String phase) {
        ProgressBar bar = progress.bar(phase, err());
        RetentionResult result = pg.retentionPolicy().execute(plan, bar);
        if (!json || Boolean.TRUE.equals(progress.progress)) {
            bar.finish();
        }
        return result;
    }

    private void printResult(RetentionPlan plan, RetentionResult result, String where) {
        printPlan(plan, "deleted", where);
        result.skipped().forEach(s -> out().println("skipped   " + s));
        out().printf("cleanup%s done in %s: %d backup(s), %d WAL file(s), %d leftover(s) removed, %s freed%n",
                where == null ? "" : " of " + where, Format.duration(result.duration()), result.deletedBackups().size(),
                result.deletedWalFiles(), result.removedOrphans(), Format.bytes(result.bytesFreed()));
    }

    private void printPlan(RetentionPlan plan, String verb, String where) {
        if (where != null) {
            out().println("== " + where);
        }
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
