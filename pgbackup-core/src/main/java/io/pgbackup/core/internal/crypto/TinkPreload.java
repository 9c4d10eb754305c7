package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.internal.concurrent.Pools;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Loads and registers Tink, and warms the sealing path up ({@link CipherWarmUp#run()}), on a
 * background thread while a backup connects, checks its server and plans: some hundreds of classes
 * and their static set-up (~0.4 s of CPU), and the JIT's AES-GCM, that the first sealed object would
 * otherwise wait for on the thread receiving the data. Touches no key of the repository and writes nothing.
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
        // Only a head start: the first sealed object registers Tink itself.
        CipherWarmUp.run();
    }
}
