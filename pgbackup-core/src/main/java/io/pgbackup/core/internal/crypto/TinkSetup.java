package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.aead.AeadWrapper;
import com.google.crypto.tink.aead.AesGcmKeyManager;
import com.google.crypto.tink.hybrid.HybridConfig;
import com.google.crypto.tink.streamingaead.AesGcmHkdfStreamingKeyManager;
import com.google.crypto.tink.streamingaead.AesGcmHkdfStreamingParameters;
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
     * Objects: AES-256-GCM with HKDF-derived per-object keys, in 64 KiB segments. Tink makes one
     * cipher call (a {@code Cipher.init}, its engine objects, a GHASH set-up) per segment: sealing
     * the 1.3 GB a 204-segment WAL backlog compresses to took ~1.6 CPU s in 4 KiB segments and
     * ~0.7 s in 64 KiB ones (fresh JVMs, warmed up as {@link CipherWarmUp} does; 16 and 256 KiB
     * cost more). Larger segments also start slower: HotSpot runs AES-GCM on AES-NI/CLMUL only in
     * code C2 compiled after thousands of calls, hence the warm-up. The segment size is part of
     * each data keyset (its record), so objects sealed with the 4 KiB and 1 MiB keysets of before
     * open as they did. Costs 16 bytes per 64 KiB.
     */
    static final AesGcmHkdfStreamingParameters DATA_PARAMETERS = dataParameters(64 * 1024);
    /** {@code key generate} without a public half: the wrap key is symmetric. */
    static final String WRAP_TEMPLATE = "AES256_GCM";
    /** {@code key generate --public-out}: hosts with the public half seal without being able to read. */
    static final String HYBRID_TEMPLATE = "DHKEM_X25519_HKDF_SHA256_HKDF_SHA256_AES_256_GCM";

    private static volatile boolean registered;
    private static volatile boolean hybridRegistered;

    /** AES-256 data keys, AES-256 derived keys, HKDF-SHA256, {@code segmentBytes} of ciphertext per segment. */
    static AesGcmHkdfStreamingParameters dataParameters(int segmentBytes) {
        try {
            return AesGcmHkdfStreamingParameters.builder()
                    .setKeySizeBytes(32)
                    .setDerivedAesGcmKeySizeBytes(32)
                    .setHkdfHashType(AesGcmHkdfStreamingParameters.HashType.SHA256)
                    .setCiphertextSegmentSizeBytes(segmentBytes)
                    .build();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink refused the data keyset parameters", e);
        }
    }

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
