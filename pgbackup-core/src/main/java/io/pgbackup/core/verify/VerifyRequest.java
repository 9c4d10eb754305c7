package io.pgbackup.core.verify;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Which backups to verify and how deeply.
 *
 * @param backupId        the backup to verify; empty with {@code all} false: the newest
 * @param all             every backup in the repository
 * @param restoreTest     also restore each one into a temporary directory and start PostgreSQL on it
 * @param restoreTestDir  where the temporary copy goes (it needs the database's size free); empty: java.io.tmpdir
 * @param restoreTestTimeout how long the restored server may take to start and finish recovery
 */
public record VerifyRequest(Optional<String> backupId, boolean all, boolean restoreTest, Optional<Path> restoreTestDir,
                            Duration restoreTestTimeout) {
    public static final Duration DEFAULT_RESTORE_TEST_TIMEOUT = Duration.ofMinutes(30);

    public VerifyRequest {
        backupId = backupId == null ? Optional.empty() : backupId;
        restoreTestDir = restoreTestDir == null ? Optional.empty() : restoreTestDir.map(p -> p.toAbsolutePath().normalize());
        restoreTestTimeout = restoreTestTimeout == null ? DEFAULT_RESTORE_TEST_TIMEOUT : restoreTestTimeout;
        if (all && backupId.isPresent()) {
            throw new IllegalArgumentException("give a backup id or all, not both");
        }
    }

    /** The newest backup, without a restore test. */
    public static VerifyRequest newest() {
        return new VerifyRequest(Optional.empty(), false, false, Optional.empty(), null);
    }

    public static VerifyRequest of(String backupId) {
        return new VerifyRequest(Optional.of(Objects.requireNonNull(backupId)), false, false, Optional.empty(), null);
    }

    public static VerifyRequest every() {
        return new VerifyRequest(Optional.empty(), true, false, Optional.empty(), null);
    }

    public VerifyRequest withRestoreTest(boolean on) {
        return new VerifyRequest(backupId, all, on, restoreTestDir, restoreTestTimeout);
    }

    public VerifyRequest withRestoreTestDir(Path dir) {
        return new VerifyRequest(backupId, all, restoreTest, Optional.ofNullable(dir), restoreTestTimeout);
    }
}
