package io.pgbackup.core.verify;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What {@code verify} found: one verdict per backup, oldest first, and notes that do not change
 * a verdict (the result could not be recorded, for instance).
 */
public record VerifyReport(List<BackupVerdict> backups, boolean ok, Duration duration, List<String> warnings) {
    public VerifyReport {
        backups = List.copyOf(backups);
        warnings = List.copyOf(warnings);
    }

    public List<BackupVerdict> failed() {
        return backups.stream().filter(b -> !b.ok()).toList();
    }

    /**
     * The verdict on one backup: every check in the order run, and the first failure as one line.
     *
     * @param restoreTested whether a restore test was among the checks
     */
    public record BackupVerdict(String backupId, boolean ok, List<VerifyCheck> checks, boolean restoreTested,
                                Duration duration) {
        public BackupVerdict {
            checks = List.copyOf(checks);
        }

        /** The name of the check {@code --restore-test} adds. */
        public static final String RESTORE_TEST_CHECK = "restore test";

        public static BackupVerdict of(String backupId, List<VerifyCheck> checks, boolean restoreTested, Duration duration) {
            return new BackupVerdict(backupId, checks.stream().allMatch(VerifyCheck::ok), checks, restoreTested, duration);
        }

        /** {@code "base.tar.gz: ..."}: the first failed check, naming the file or segment; empty when the backup passed. */
        public Optional<String> firstFailure() {
            return checks.stream().filter(c -> !c.ok()).findFirst().map(c -> c.name() + ": " + c.detail());
        }

        /** The restore test's check, when one ran. */
        public Optional<VerifyCheck> restoreTest() {
            return checks.stream().filter(c -> c.name().equals(RESTORE_TEST_CHECK)).findFirst();
        }
    }

    /**
     * One check of a backup: what was checked ({@code base.tar.gz}, {@code wal archive}, ...), whether
     * it passed, one line saying what was found (on failure: the file or the first missing segment
     * and what is wrong with it), and how long it took.
     */
    public record VerifyCheck(String name, boolean ok, String detail, Duration duration) {
        public static VerifyCheck passed(String name, String detail, Duration duration) {
            return new VerifyCheck(name, true, detail, duration);
        }

        public static VerifyCheck failed(String name, String detail, Duration duration) {
            return new VerifyCheck(name, false, detail, duration);
        }
    }
}
