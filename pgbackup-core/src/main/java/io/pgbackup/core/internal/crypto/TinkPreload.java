package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.KeyTemplates;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.StreamingAead;
import io.pgbackup.core.internal.concurrent.Pools;

import java.security.GeneralSecurityException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Loads and registers Tink on a background thread while a backup connects, checks its server and
 * plans: some hundreds of classes and their static set-up (~0.4 s of CPU) that the first sealed
 * object would otherwise wait for on the thread receiving the data. Touches no key of the
 * repository and writes nothing.
 */
public final class TinkPreload {
    private static final AtomicBoolean STARTED = new AtomicBoolean();

    private TinkPreload() {
    }

    /** Once per JVM; a no-op after the first call. */
    public static void start() {
        if (STARTED.compareAndSet(false, true)) {
            Pools.start("pgbackup-tink-preload", TinkPreload::run);
        }
    }

    private static void run() {
        try {
            TinkSetup.register();
            KeysetHandle.generateNew(KeyTemplates.get(TinkSetup.DATA_TEMPLATE)).getPrimitive(RegistryConfiguration.get(), StreamingAead.class);
        } catch (GeneralSecurityException | RuntimeException e) {
            // Only a head start: the first sealed object registers Tink itself.
        }
    }
}
