package io.pgbackup.core.schedule;

import java.util.List;

/** What {@code schedule --install} did, one line per action, and what the user still has to do. */
public record InstallResult(List<String> actions, List<String> nextSteps) {
    public InstallResult {
        actions = List.copyOf(actions);
        nextSteps = List.copyOf(nextSteps);
    }
}
