package io.pgbackup.core.internal.sync;

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

    /** Program and options, ready for {@link io.pgbackup.core.process.ProcessRunner.ProcessSpec}. */
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
        return RemoteConfig.words(command);
    }
}
