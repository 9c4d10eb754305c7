package io.pgbackup.core.archive;

import java.nio.file.Path;
import java.util.Objects;

/** What {@code init} did with one generated script. */
public record ScriptInstall(Path path, State state) {
    public ScriptInstall {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(state, "state");
    }

    public enum State {
        /** There was no script: it was written. */
        INSTALLED,
        /** The script's text or permissions differed from what this configuration generates: it was rewritten. */
        UPDATED,
        /** The script was already exactly right: not touched. */
        UNCHANGED
    }
}
