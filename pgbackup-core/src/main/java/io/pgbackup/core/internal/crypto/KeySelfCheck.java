package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.StreamingAead;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.crypto.Encryption;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;

/**
 * {@code pgbackup key check}: everything a sealed write does with the configured key, and with a
 * private key everything a read does, in memory: a throwaway data keyset wrapped under the key in a
 * keyset record, {@link #SAMPLE_BYTES} sealed under it; then the record parsed, the keyset unwrapped,
 * the sample opened and compared. Nothing is written anywhere. The launcher's class-data archive
 * records what this loads, so that every command that seals or opens starts faster.
 */
final class KeySelfCheck {
    static final int SAMPLE_BYTES = 64 * 1024;
    private static final String RECORD_KEY = "wal_archive/" + KeyRing.KEYS_DIR + "key-check.json";
    private static final String OBJECT_KEY = "wal_archive/000000010000000000000001.gz";

    private KeySelfCheck() {
    }

    static Encryption.KeyCheck run(WrapKey key) {
        byte[] secret = null;
        byte[] opened = null;
        try {
            TinkSetup.register();
            KeysetHandle handle = KeysetHandle.generateNew(TinkSetup.DATA_PARAMETERS);
            secret = TinkProtoKeysetFormat.serializeKeyset(handle, InsecureSecretKeyAccess.get());
            KeysetRecord record = new KeysetRecord(KeysetRecord.FORMAT, Instant.EPOCH.toString(),
                    List.of(new KeysetRecord.Wrap(key.id(), Base64.getEncoder().encodeToString(key.wrap(secret,
                            KeysetRecord.wrapContext(RECORD_KEY))))));
            byte[] json = record.toJson();
            byte[] sample = new byte[SAMPLE_BYTES];
            new Random(SAMPLE_BYTES).nextBytes(sample);
            byte[] associated = SealedFormat.associatedData(OBJECT_KEY, RECORD_KEY);
            ByteArrayOutputStream sealed = new ByteArrayOutputStream(SAMPLE_BYTES + 1024);
            try (OutputStream out = handle.getPrimitive(RegistryConfiguration.get(), StreamingAead.class)
                    .newEncryptingStream(sealed, associated)) {
                out.write(sample);
            }
            if (!key.canUnwrap()) {
                return new Encryption.KeyCheck(key.id(), false, SAMPLE_BYTES);
            }
            KeysetRecord.Wrap wrap = KeysetRecord.parse(json, RECORD_KEY).wraps().get(0);
            opened = key.unwrap(Base64.getDecoder().decode(wrap.wrapped()), KeysetRecord.wrapContext(RECORD_KEY));
            StreamingAead reopened = TinkProtoKeysetFormat.parseKeyset(opened, InsecureSecretKeyAccess.get())
                    .getPrimitive(RegistryConfiguration.get(), StreamingAead.class);
            byte[] back;
            try (InputStream in = reopened.newDecryptingStream(new ByteArrayInputStream(sealed.toByteArray()), associated)) {
                back = in.readAllBytes();
            }
            if (!Arrays.equals(back, sample)) {
                throw new GeneralSecurityException("the sample opened to other bytes");
            }
            return new Encryption.KeyCheck(key.id(), true, SAMPLE_BYTES);
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            // The class only: a message could carry key material.
            throw new PgBackupException(ErrorCode.IO_FAILED, "key " + key.id() + " cannot seal and open: "
                    + e.getClass().getSimpleName() + "; generate a new one with 'pgbackup key generate --out FILE'");
        } finally {
            if (secret != null) {
                Arrays.fill(secret, (byte) 0);
            }
            if (opened != null) {
                Arrays.fill(opened, (byte) 0);
            }
        }
    }
}
