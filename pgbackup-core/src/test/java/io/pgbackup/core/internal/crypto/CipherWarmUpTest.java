package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.internal.storage.LocalStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The archiver's cipher warm-up: only where new objects are sealed, and it leaves the repository as it was. */
class CipherWarmUpTest {
    @TempDir
    Path dir;

    @Test
    void warmsUpOnlyASealingStorageAndWritesNothingToIt() throws Exception {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        assertThat(CipherWarmUp.forSealing(new LocalStorage(repo))).isFalse();
        // Wrapped for recognising sealed objects, but without a key nothing new is sealed.
        assertThat(CipherWarmUp.forSealing(Sealing.load(EncryptionConfig.none(), Clock.systemUTC()).seal(new LocalStorage(repo)))).isFalse();

        KeyGenerator.Generated key = KeyGenerator.generate(dir.resolve("key.json"), Optional.empty());
        SealingStorage sealing = Sealing.load(EncryptionConfig.keyFile(key.keyFile()), Clock.systemUTC()).seal(new LocalStorage(repo));
        assertThat(CipherWarmUp.forSealing(sealing)).isTrue();
        try (Stream<Path> files = Files.walk(repo)) {
            assertThat(files.filter(Files::isRegularFile)).isEmpty();
        }
    }
}
