package io.pgbackup.core.retention;

/**
 * Decides which backups and WAL files may go, as a plan, then removes them.
 *
 * <p>{@link #plan()} only reads; {@code cleanup --dry-run} prints exactly what it returns.
 * {@link #execute(RetentionPlan)} takes the repository lock and removes what the plan lists,
 * backups first, so an interruption never leaves a backup that looks valid without its WAL.
 */
public interface RetentionPolicy {
    /** What cleanup would do now, with the reason for every decision; changes nothing. */
    RetentionPlan plan();

    /**
     * Removes what {@code plan} lists, holding the repository lock. Something already gone (another
     * cleanup) is skipped, not an error.
     */
    RetentionResult execute(RetentionPlan plan);

    /**
     * {@link #execute(RetentionPlan)}, telling {@code progress} the bytes of the plan dealt with
     * (deleted, or skipped as already gone or kept for a restore) of {@link RetentionPlan#bytesFreed()}
     * (phase {@code cleanup}); implementations without it ignore it.
     */
    default RetentionResult execute(RetentionPlan plan, io.pgbackup.core.progress.ProgressListener progress) {
        return execute(plan);
    }
}
