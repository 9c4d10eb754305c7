package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.hybrid.HybridConfig;
import com.google.crypto.tink.streamingaead.StreamingAeadConfig;

import java.security.GeneralSecurityException;

/** Registers the Tink primitives pgbackup uses, once per JVM (Tink's registry is global). */
final class TinkSetup {
    /** Objects: AES-256-GCM with HKDF-derived per-object keys, in 1 MiB segments. */
    static final String DATA_TEMPLATE = "AES256_GCM_HKDF_1MB";
    /** {@code key generate} without a public half: the wrap key is symmetric. */
    static final String WRAP_TEMPLATE = "AES256_GCM";
    /** {@code key generate --public-out}: hosts with the public half seal without being able to read. */
    static final String HYBRID_TEMPLATE = "DHKEM_X25519_HKDF_SHA256_HKDF_SHA256_AES_256_GCM";

    private static volatile boolean registered;

    private TinkSetup() {
    }

    static void register() {
        if (registered) {
            return;
        }
        synchronized (TinkSetup.class) {
            if (!registered) {
                try {
                    AeadConfig.register();
                    StreamingAeadConfig.register();
                    HybridConfig.register();
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("Tink's primitives cannot be registered", e);
                }
                registered = true;
            }
        }
    }
}
