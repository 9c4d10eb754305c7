package io.pgbackup.core.internal.sync;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.config.RemoteConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * The SSH command line for a remote: {@code PG_BACKUP_SSH_COMMAND} split into words (spaces
 * separate, single or double quotes keep spaces, no other expansion), then the port,
 * {@code BatchMode=yes} (a missing key fails instead of prompting) and a connect timeout.
 */
public final class SshCommand {
    static final int CONNECT_TIMEOUT_SECONDS = 10;

    private SshCommand() {
    }

    /** Program and options, ready for {@link io.pgbackup.core.process.ProcessSpec}. */
    static List<String> words(RemoteConfig remote) {
        List<String> words = split(remote.sshCommand());
        words.addAll(List.of("-p", String.valueOf(remote.port()), "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=" + CONNECT_TIMEOUT_SECONDS));
        return words;
    }

    /** The same as one {@code rsync -e} argument, quoted the way rsync splits it. */
    static String forRsync(RemoteConfig remote) {
        List<String> quoted = new ArrayList<>();
        for (String w : words(remote)) {
            quoted.add(w.matches("[A-Za-z0-9_./=:@,+-]+") ? w : "'" + w.replace("'", "''") + "'");
        }
        return String.join(" ", quoted);
    }

    public static List<String> split(String command) {
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
