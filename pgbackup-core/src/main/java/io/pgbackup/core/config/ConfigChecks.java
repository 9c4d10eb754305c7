package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_DIR;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_REMOTE_DIR;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_REMOTE_HOST;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_REMOTE_PORT;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_REMOTE_USER;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_SSH_COMMAND;
import static io.pgbackup.core.config.PgBackupConfig.PG_HOST;

/** The checks {@link PgBackupConfig.Builder#build()} runs, each refusal one line naming its variable. */
final class ConfigChecks {
    /** Linux's sun_path holds 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH_BYTES = 107;

    private ConfigChecks() {
    }

    /** {@code value}, demanded by a command that needs it: unset is one line naming the variable and what to set. */
    static <T> T require(T value, String variable, String what) {
        if (value == null) {
            throw invalid(variable + " is not set: set it to " + what);
        }
        return value;
    }

    /** {@code PG_BACKUP_ARCHIVER_REPO=s3} stores into the bucket alone: there must be one. */
    static void checkArchiverRepository(ArchiverConfig archiver, io.pgbackup.core.storage.s3.S3Settings s3) {
        if (archiver.bucketOnly() && s3 == null) {
            throw invalid(ArchiverConfig.PG_BACKUP_ARCHIVER_REPO + "=s3 needs a bucket: set " + PgBackupConfig.PG_BACKUP_S3_BUCKET
                    + " (and PG_BACKUP_S3_ENDPOINT for a server other than AWS)");
        }
    }

    /** The remote sync target, or null when no host is set (remote sync off). */
    static RemoteConfig remote(String host, String user, String dir, int port, String sshCommand, Path backupDir) {
        if (host == null || host.isBlank()) {
            return null;
        }
        String remoteUser = user == null || user.isBlank() ? System.getProperty("user.name") : user;
        String remoteDir = dir == null || dir.isBlank() ? (backupDir == null ? null : backupDir.toString()) : dir;
        if (remoteDir == null) {
            throw invalid(PG_BACKUP_REMOTE_DIR + " is not set and there is no " + PG_BACKUP_DIR
                    + " to default to: set " + PG_BACKUP_DIR);
        }
        // ssh and rsync would read a leading '-' as one of their options (-oProxyCommand=...).
        if (host.startsWith("-")) {
            throw invalid(PG_BACKUP_REMOTE_HOST + " '" + host + "' begins with '-', which ssh and rsync would take"
                    + " as an option: give a host name or address");
        }
        if (remoteUser.startsWith("-")) {
            throw invalid(PG_BACKUP_REMOTE_USER + " '" + remoteUser + "' begins with '-', which ssh and rsync would take"
                    + " as an option: give a user name");
        }
        if (sshCommand != null && sshCommand.chars().anyMatch(Character::isISOControl)) {
            throw invalid(PG_BACKUP_SSH_COMMAND + " contains a control character (newline, tab): use one line");
        }
        return new RemoteConfig(host, remoteUser, remoteDir, checkPort(PG_BACKUP_REMOTE_PORT, port), sshCommand);
    }

    static PgBackupException invalid(String message) {
        return new PgBackupException(ErrorCode.INVALID_CONFIG, message);
    }

    static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    static Path checkAbsolute(String variable, Path path) {
        if (!path.isAbsolute()) {
            throw invalid(variable + "='" + path + "' is a relative path: use an absolute path, e.g. "
                    + Path.of(path.toString()).toAbsolutePath().normalize());
        }
        return path.normalize();
    }

    static Path socketFile(Path dir, int port) {
        return dir.resolve(".s.PGSQL." + port);
    }

    static String checkHost(String host) {
        if (host.chars().anyMatch(Character::isISOControl)) {
            throw invalid(PG_HOST + " contains a control character (newline, tab): set it to a host name, an address"
                    + " or a socket directory such as /var/run/postgresql");
        }
        // A socket directory as libpq takes it; normalized so messages and the socket path agree.
        return PgBackupConfig.isSocketDirectory(host) ? Path.of(host).normalize().toString() : host;
    }

    static void checkSocketPathLength(Path dir, int port) {
        String socket = socketFile(dir, port).toString();
        int bytes = socket.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SOCKET_PATH_BYTES) {
            throw invalid(PG_HOST + "='" + dir + "' is too long for a socket directory: " + socket + " is " + bytes
                    + " bytes, a Unix socket path holds at most " + MAX_SOCKET_PATH_BYTES
                    + "; use a shorter directory in unix_socket_directories and PG_HOST");
        }
    }

    static int checkPort(String variable, int port) {
        if (port < 1 || port > 65535) {
            throw invalid(variable + "=" + port + " is not a TCP port: use a number from 1 to 65535");
        }
        return port;
    }

    static int checkNonNegative(String variable, int value) {
        if (value < 0) {
            throw invalid(variable + "=" + value + " is negative: use 0 or more");
        }
        return value;
    }
}
