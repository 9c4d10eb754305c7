package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeyTemplates;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.StreamingAead;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.streamingaead.AesGcmHkdfStreamingParameters;
import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.storage.Storage;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The data keysets' segment size: new keysets seal in 64 KiB segments (one cipher call per segment:
 * 4 KiB ones cost twice the CPU), and objects sealed with the 4 KiB and 1 MiB keysets of before
 * still open, because each keyset carries its own segment size.
 */
class SealedSegmentsTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"AES256_GCM_HKDF_4KB", "AES256_GCM_HKDF_1MB"})
    void newKeysetsSealIn64KiBSegmentsAndObjectsSealedWithTheKeysetsOfBeforeStillOpen(String template) throws Exception {
        KeyGenerator.Generated key = KeyGenerator.generate(dir.resolve("key.json"), Optional.empty());
        EncryptionConfig config = EncryptionConfig.keyFile(key.keyFile());
        Path repo = Files.createDirectories(dir.resolve("repo"));
        SealingStorage storage = Sealing.load(config, Clock.systemUTC()).seal(new LocalStorage(repo));
        byte[] content = new byte[3 << 20]; // several segments of either size
        new Random(17).nextBytes(content);

        storage.write("base/20260101_000000/base.tar.zst", content, Storage.WriteMode.REPLACE);
        String recordKey = storage.raw().list("base/20260101_000000/keys/").get(0).key();
        WrapKey wrapKey = WrapKeys.load(config).orElseThrow();
        KeysetRecord record = KeysetRecord.parse(storage.raw().read(recordKey), recordKey);
        byte[] secret = wrapKey.unwrap(Base64.getDecoder().decode(record.wraps().get(0).wrapped()), KeysetRecord.wrapContext(recordKey));
        KeysetHandle made = TinkProtoKeysetFormat.parseKeyset(secret, InsecureSecretKeyAccess.get());
        assertThat(((AesGcmHkdfStreamingParameters) made.getPrimary().getKey().getParameters()).getCiphertextSegmentSizeBytes())
                .isEqualTo(64 * 1024);
        assertThat(storage.read("base/20260101_000000/base.tar.zst")).isEqualTo(content);

        // As pgbackup stored them before: a 4 KiB or 1 MiB keyset record, and a segment sealed with it in the same layout.
        TinkSetup.register();
        KeysetHandle before = KeysetHandle.generateNew(KeyTemplates.get(template));
        String beforeRecord = "wal_archive/keys/20260101T000000Z-0badc0de.json";
        byte[] beforeSecret = TinkProtoKeysetFormat.serializeKeyset(before, InsecureSecretKeyAccess.get());
        storage.raw().write(beforeRecord, new KeysetRecord(KeysetRecord.FORMAT, Instant.now().toString(), List.of(
                new KeysetRecord.Wrap(wrapKey.id(), Base64.getEncoder().encodeToString(
                        wrapKey.wrap(beforeSecret, KeysetRecord.wrapContext(beforeRecord)))))).toJson(), Storage.WriteMode.CREATE_NEW);
        String segment = "wal_archive/000000010000000000000001.zst";
        ByteArrayOutputStream sealed = new ByteArrayOutputStream();
        SealedFormat.writeHeader(sealed, beforeRecord);
        try (OutputStream out = before.getPrimitive(RegistryConfiguration.get(), StreamingAead.class)
                .newEncryptingStream(sealed, SealedFormat.associatedData(segment, beforeRecord))) {
            out.write(content);
        }
        storage.raw().write(segment, sealed.toByteArray(), Storage.WriteMode.CREATE_NEW);

        // A fresh process (a new ring) opens it with the key.
        assertThat(Sealing.load(config, Clock.systemUTC()).seal(new LocalStorage(repo)).read(segment)).isEqualTo(content);
    }
}
