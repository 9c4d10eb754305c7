package io.pgbackup.core.internal.health;

import java.time.OffsetDateTime;

/**
 * What the notify command reads on stdin, as one JSON object.
 *
 * @param event            {@code failure}, {@code recovery} (a success after a failure) or {@code success}
 * @param command          the command kind: backup, archive, sync, cleanup, verify, restore
 * @param systemIdentifier the cluster's (from the repository's cluster.json), null when unknown
 * @param message          one line, the error for a failure; never a secret (the commands' messages carry none)
 */
public record NotifyEvent(String event, String command, String systemIdentifier, String repository, String message,
                          OffsetDateTime time, String host) {
}
