package io.pgbackup.core.verify;

import io.pgbackup.core.verify.VerifyReport.BackupVerdict;
import java.util.function.Consumer;

/** Checks that backups and the WAL archive are intact and restorable. */
public interface Verifier {
    /**
     * Verifies the backups {@code request} selects, one verdict each, and calls {@code onVerdict}
     * as each one is finished (for progress). A damaged backup is a failed verdict in the report,
     * not an exception; exceptions are for requests that cannot be carried out (unknown id, no
     * repository).
     */
    VerifyReport verify(VerifyRequest request, Consumer<BackupVerdict> onVerdict);

    /**
     * {@link #verify(VerifyRequest, Consumer)}, telling {@code progress} the stored bytes read of
     * the selected backups' total (phase {@code verify}); implementations without it ignore it.
     */
    default VerifyReport verify(VerifyRequest request, Consumer<BackupVerdict> onVerdict,
                                io.pgbackup.core.progress.ProgressListener progress) {
        return verify(request, onVerdict);
    }

    default VerifyReport verify(VerifyRequest request) {
        return verify(request, verdict -> { });
    }
}
