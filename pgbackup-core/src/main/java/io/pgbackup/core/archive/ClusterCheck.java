package io.pgbackup.core.archive;

import java.util.Objects;

/**
 * Whether {@code init} could read the live cluster's settings.
 *
 * @param reachable     whether the settings were read
 * @param serverVersion the server's version when reachable, else empty
 * @param message       one line for the user: the server and address it read, or why it could not
 */
public record ClusterCheck(boolean reachable, String serverVersion, String message) {
    public ClusterCheck {
        Objects.requireNonNull(serverVersion, "serverVersion");
        Objects.requireNonNull(message, "message");
    }
}
