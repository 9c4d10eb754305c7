package io.pgbackup.core.restore;

import java.time.Duration;
import java.util.List;

/** Plans a point-in-time restore as an immutable plan, then carries it out. */
public interface RestorePlanner {
    /** Computes the plan, or refuses with one line; touches nothing on disk. */
    RestorePlan plan(RestoreRequest request);

    /** Carries out a plan: moves PGDATA aside if planned, extracts, writes the recovery settings, creates recovery.signal last. */
    RestoreResult execute(RestorePlan plan);

    /** {@link #execute(RestorePlan)}, telling {@code progress} the tar bytes extracted (implementations without it ignore it). */
    default RestoreResult execute(RestorePlan plan, io.pgbackup.core.progress.ProgressListener progress) {
        return execute(plan);
    }

    /** A finished restore: its plan, how long extraction took, how much it wrote, and what to do next. */
    record RestoreResult(RestorePlan plan, Duration duration, long bytesWritten, List<String> nextSteps) {
        public RestoreResult {
            nextSteps = List.copyOf(nextSteps);
        }
    }
}
