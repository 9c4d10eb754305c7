package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.aead.AeadWrapper;
import com.google.crypto.tink.aead.AesGcmKeyManager;
import com.google.crypto.tink.hybrid.HybridConfig;
import com.google.crypto.tink.streamingaead.AesGcmHkdfStreamingKeyManager;
import com.google.crypto.tink.streamingaead.StreamingAeadWrapper;

import java.security.GeneralSecurityException;

/**
 * Registers the Tink primitives pgbackup uses, once per JVM (Tink's registry is global): only the
 * key types it makes, not Tink's whole catalogue. {@code AeadConfig}, {@code StreamingAeadConfig}
 * and {@code HybridConfig} register a dozen key managers each, ~90 ms of CPU at every start of a
 * command with a key (each {@code wal-fetch} of a restore among them); the hybrid ones are
 * registered only when a key is a key pair.
 */
final class TinkSetup {
    /**
     * Objects: AES-256-GCM with HKDF-derived per-object keys, in 4 KiB segments. Not 1 MiB: HotSpot
     * runs AES-GCM on AES-NI/CLMUL only in code C2 compiled after thousands of calls, and Tink makes
     * one cipher call per segment, so with 1 MiB segments a command (even the long-running archiver)
     * sealed gigabytes at ~80 MB/s in the Java fallback before that; with 4 KiB ones it takes ~20 MB,
     * then GB/s. The segment size is part of each data keyset (its record), so objects sealed with
     * 1 MiB keysets open as before. Costs 16 bytes per 4 KiB (0.4%).
     */
    static final String DATA_TEMPLATE = "AES256_GCM_HKDF_4KB";
    /** {@code key generate} without a public half: the wrap key is symmetric. */
    static final String WRAP_TEMPLATE = "AES256_GCM";
    /** {@code key generate --public-out}: hosts with the public half seal without being able to read. */
    static final String HYBRID_TEMPLATE = "DHKEM_X25519_HKDF_SHA256_HKDF_SHA256_AES_256_GCM";

    private static volatile boolean registered;
    private static volatile boolean hybridRegistered;

    private TinkSetup() {
    }

    static void register() {
        if (!registered) {
            registerOnce(false);
        }
    }

    /** Adds the hybrid (key pair) primitives: for {@code key generate --public-out} and keys that are key pairs. */
    static void registerHybrid() {
        if (!hybridRegistered) {
            registerOnce(true);
        }
    }

    private static synchronized void registerOnce(boolean hybrid) {
        try {
            if (!registered) {
                AeadWrapper.register();
                AesGcmKeyManager.register(true);
                StreamingAeadWrapper.register();
                AesGcmHkdfStreamingKeyManager.register(true);
                registered = true;
            }
            if (hybrid && !hybridRegistered) {
                HybridConfig.register();
                hybridRegistered = true;
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink's primitives cannot be registered", e);
        }
    }
}
