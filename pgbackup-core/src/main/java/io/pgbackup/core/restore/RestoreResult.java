package io.pgbackup.core.restore;

import java.time.Duration;
import java.util.List;

/** A finished restore: its plan, how long extraction took, how much it wrote, and what to do next. */
public record RestoreResult(RestorePlan plan, Duration duration, long bytesWritten, List<String> nextSteps) {
    public RestoreResult {
        nextSteps = List.copyOf(nextSteps);
    }
}
