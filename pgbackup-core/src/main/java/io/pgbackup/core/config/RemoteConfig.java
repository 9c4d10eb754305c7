package io.pgbackup.core.config;

import java.util.Objects;

/**
 * Where offsite copies go: {@code user@host:dir} over SSH on {@code port}.
 *
 * @param sshCommand the SSH program and its options ({@code PG_BACKUP_SSH_COMMAND}, default
 *                   {@code ssh}), e.g. {@code ssh -i /home/me/.ssh/backup_key}; pgbackup adds the
 *                   port, {@code BatchMode=yes} (never a password prompt) and a connect timeout
 */
public record RemoteConfig(String host, String user, String dir, int port, String sshCommand) {
    public static final String DEFAULT_SSH_COMMAND = "ssh";

    public RemoteConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(dir, "dir");
        sshCommand = sshCommand == null || sshCommand.isBlank() ? DEFAULT_SSH_COMMAND : sshCommand.strip();
    }

    public RemoteConfig(String host, String user, String dir, int port) {
        this(host, user, dir, port, DEFAULT_SSH_COMMAND);
    }

    /** The rsync destination prefix, e.g. {@code backup@host:/backups/postgresql}. */
    public String rsyncTarget() {
        return user + "@" + host + ":" + dir;
    }

    /** {@code user@host}, for ssh and for messages. */
    public String login() {
        return user + "@" + host;
    }
}
