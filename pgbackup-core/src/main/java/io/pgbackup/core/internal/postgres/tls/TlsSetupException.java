package io.pgbackup.core.internal.postgres.tls;

import java.io.IOException;

/** A TLS file or setting that cannot be used; its message is one line naming the file and the fix. */
public final class TlsSetupException extends IOException {
    public TlsSetupException(String message) {
        super(message);
    }
}
