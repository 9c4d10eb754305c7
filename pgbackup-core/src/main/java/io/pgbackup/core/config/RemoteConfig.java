package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.util.ArrayList;
import java.util.List;
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

    /**
     * A command line split into words the way {@link #sshCommand} is (and the notify command):
     * spaces separate, single or double quotes keep spaces, no other expansion; empty gives
     * {@link #DEFAULT_SSH_COMMAND}.
     */
    public static List<String> words(String command) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (char c : command.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (c == ' ') {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw new PgBackupException(ErrorCode.INVALID_CONFIG, PgBackupConfig.PG_BACKUP_SSH_COMMAND
                    + " has an unclosed " + quote + " quote: close it, e.g. ssh -i '/path with spaces/key'");
        }
        if (inWord) {
            words.add(word.toString());
        }
        if (words.isEmpty()) {
            words.add(RemoteConfig.DEFAULT_SSH_COMMAND);
        }
        return words;
    }
}
