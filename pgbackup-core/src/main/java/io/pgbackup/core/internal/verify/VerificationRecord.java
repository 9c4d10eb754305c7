package io.pgbackup.core.internal.verify;

import io.pgbackup.core.verify.VerifyReport.VerifyCheck;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * {@code base/<id>/pgbackup_verified.json}: the last time {@code verify} looked at a backup and
 * what it found, and the last restore test (kept when a later verify ran without one), so
 * {@code status} can say when each backup was last proven to restore.
 */
public record VerificationRecord(int formatVersion, String backupId, OffsetDateTime verifiedAt, boolean ok,
                                 Duration duration, List<VerifyCheck> checks, RestoreTestRecord lastRestoreTest) {
    public static final int FORMAT_VERSION = 1;
    public static final String FILE_NAME = "pgbackup_verified.json";

    public VerificationRecord {
        checks = checks == null ? List.of() : List.copyOf(checks);
    }

    /** One restore test: when it ended, whether the copy started and answered, how long it all took, what it found. */
    public record RestoreTestRecord(OffsetDateTime at, boolean ok, Duration duration, String detail) {
    }

    /** When the backup was last proven to restore: the last restore test, if it passed. */
    public java.util.Optional<OffsetDateTime> provenAt() {
        return lastRestoreTest != null && lastRestoreTest.ok() ? java.util.Optional.of(lastRestoreTest.at()) : java.util.Optional.empty();
    }
}
