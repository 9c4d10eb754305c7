package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.StreamingAead;
import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.storage.Storage;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * Gets the JIT to compile the sealing path before the first real object. HotSpot runs AES-GCM on
 * AES-NI/CLMUL only in code C2 compiled after thousands of cipher calls; until then a fresh JVM
 * seals at tens of MB/s, and an archiver starting on a backlog spends seconds of both cores there.
 * The calls, not the bytes, are what counts: sealing a few MB of zeros with a throwaway keyset of
 * 256-byte segments makes as many calls as ~750 MB of real 64 KiB segments, in ~0.15 s of one core,
 * through the same Tink and JDK code (a fresh JVM sealing 1.3 GB in 64 KiB segments: ~0.7 CPU s
 * with it, ~2 s without). Writes nothing of its own, never fails its caller. Backups run it
 * {@link #inBackground()} while they connect; readers of much sealed data run {@link ForOpening}'s.
 */
public final class CipherWarmUp {
    private static final int SEGMENT_BYTES = 256;
    private static final long WARM_UP_BYTES = 3L * 1024 * 1024;
    /** The JIT's state is the JVM's: one background warm-up per JVM is enough. */
    private static final AtomicBoolean STARTED_IN_BACKGROUND = new AtomicBoolean();

    private CipherWarmUp() {
    }

    /**
     * Files ready at the archiver's start from which the warm-up pays: it costs ~0.3 s of one core,
     * while a segment sealed cold costs some 10-60 ms more than a warm one. An archiver started for
     * one or two segments (light load, or the WAL switches of a backup) skips it.
     */
    public static final int MIN_BACKLOG = 8;

    /**
     * When {@code target} seals new objects (an archiver's storage): makes, on the calling thread, what
     * the first object under {@code firstKey}'s scope needs (its keyset record, made, wrapped and
     * stored; the inventory of a new repository), and when {@code backlog}, the files waiting (asked
     * only here, where it matters), is {@link #MIN_BACKLOG} or more, warms up meanwhile on a thread of
     * its own: both are one core's work, which the first worker would otherwise do alone, the others
     * waiting on the key ring. True when it warmed up.
     */
    public static boolean forSealing(Storage target, String firstKey, IntSupplier backlog) {
        if (!(target instanceof SealingStorage sealing) || !sealing.ring().seals()) {
            return false;
        }
        AtomicBoolean warmed = new AtomicBoolean();
        Thread warming = backlog.getAsInt() >= MIN_BACKLOG ? Pools.start("pgbackup-cipher-warm-up", () -> warmed.set(run())) : null;
        sealing.prepareWriting(firstKey);
        if (warming != null) {
            try {
                warming.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return warmed.get();
    }

    /**
     * For a backup: loads and registers Tink and warms the sealing path up on a thread of its own
     * while the backup connects, checks its server and plans (some hundreds of classes and their
     * set-up, ~0.4 s of CPU, and the JIT's AES-GCM), which the first sealed object would otherwise
     * wait for on the thread receiving the data. Once per JVM; touches no key of the repository.
     */
    public static void inBackground() {
        if (STARTED_IN_BACKGROUND.compareAndSet(false, true)) {
            // Only a head start: the first sealed object registers Tink itself.
            Pools.start("pgbackup-cipher-warm-up", CipherWarmUp::run);
        }
    }

    /** Seals {@link #WARM_UP_BYTES} of zeros into nothing; false if Tink could not be set up (the real object will say why). */
    static boolean run() {
        try {
            seal(throwawayCipher(), OutputStream.nullOutputStream(), WARM_UP_BYTES);
            return true;
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            return false;
        }
    }

    /** A throwaway keyset of {@link #SEGMENT_BYTES}-byte segments: many cipher calls for few bytes. */
    private static StreamingAead throwawayCipher() throws GeneralSecurityException {
        TinkSetup.register();
        return KeysetHandle.generateNew(TinkSetup.dataParameters(SEGMENT_BYTES)).getPrimitive(RegistryConfiguration.get(), StreamingAead.class);
    }

    private static void seal(StreamingAead aead, OutputStream into, long bytes) throws GeneralSecurityException, IOException {
        byte[] zeros = new byte[64 * 1024];
        try (OutputStream out = aead.newEncryptingStream(into, new byte[0])) {
            for (long n = 0; n < bytes; n += zeros.length) {
                out.write(zeros, 0, (int) Math.min(zeros.length, bytes - n));
            }
        }
    }

    /**
     * The opening path's warm-up, for one storage (a command's): opening has its own JDK and Tink
     * code, as cold as sealing's, and in 64 KiB segments a fresh JVM opened 20 sealed WAL segments
     * (126 MB) in 1.4 s cold against 0.05 s after this warm-up (~0.2 s of one core). It starts, on
     * a thread of its own, once {@link #THRESHOLD} plain bytes have been read: a {@code wal-fetch}
     * of one segment (~6 MB compressed) does not pay for it, a restore, verify or fetch-ahead does.
     */
    static final class ForOpening {
        static final long THRESHOLD = 8L << 20;
        private final AtomicLong opened = new AtomicLong();
        private final AtomicBoolean started = new AtomicBoolean();

        void opened(int bytes) {
            if (!started.get() && opened.addAndGet(bytes) >= THRESHOLD && started.compareAndSet(false, true)) {
                Pools.start("pgbackup-cipher-warm-up", CipherWarmUp::runOpening);
            }
        }

        boolean started() {
            return started.get();
        }
    }

    /** Seals 512 KiB of zeros in 256-byte segments into memory and opens them 5 times; false if Tink could not be set up. */
    static boolean runOpening() {
        try {
            StreamingAead aead = throwawayCipher();
            ByteArrayOutputStream sealed = new ByteArrayOutputStream();
            seal(aead, sealed, 512 * 1024);
            byte[] ciphertext = sealed.toByteArray();
            for (int i = 0; i < 5; i++) {
                try (InputStream in = aead.newDecryptingStream(new ByteArrayInputStream(ciphertext), new byte[0])) {
                    in.transferTo(OutputStream.nullOutputStream());
                }
            }
            return true;
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            return false;
        }
    }
}
