package io.pgbackup.core.config;

import java.util.Objects;

/** Where offsite copies go: {@code user@host:dir} over SSH on {@code port}. */
public record RemoteConfig(String host, String user, String dir, int port) {
    public RemoteConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(dir, "dir");
    }

    /** The rsync destination prefix, e.g. {@code backup@host:/backups/postgresql}. */
    public String rsyncTarget() {
        return user + "@" + host + ":" + dir;
    }
}
