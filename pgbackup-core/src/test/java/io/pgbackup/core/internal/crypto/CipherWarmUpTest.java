package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.storage.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The archiver's start: the cipher warm-up only where new objects are sealed, and beside it the
 * keyset record the first segment is sealed with, made once and used by that segment.
 */
class CipherWarmUpTest {
    @TempDir
    Path dir;

    @Test
    void withoutAKeyNothingIsWarmedUpNorWritten() throws Exception {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        assertThat(CipherWarmUp.forSealing(new LocalStorage(repo), "wal_archive/", () -> 100)).isFalse();
        // Wrapped for recognising sealed objects, but without a key nothing new is sealed.
        assertThat(CipherWarmUp.forSealing(Sealing.load(EncryptionConfig.none(), Clock.systemUTC()).seal(new LocalStorage(repo)),
                "wal_archive/", () -> 100)).isFalse();
        try (Stream<Path> files = Files.walk(repo)) {
            assertThat(files.filter(Files::isRegularFile)).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0} files waiting")
    @ValueSource(ints = {CipherWarmUp.MIN_BACKLOG, 1})
    void withAKeyTheFirstSegmentIsSealedWithTheRecordMadeBeforeTheWorkersStartAndOnlyABacklogIsWarmedUpFor(int backlog)
            throws Exception {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        KeyGenerator.Generated key = KeyGenerator.generate(dir.resolve("key.json"), Optional.empty());
        SealingStorage sealing = Sealing.load(EncryptionConfig.keyFile(key.keyFile()), Clock.systemUTC()).seal(new LocalStorage(repo));

        assertThat(CipherWarmUp.forSealing(sealing, "wal_archive/", () -> backlog))
                .as("warmed up for a backlog, not for a segment or two").isEqualTo(backlog >= CipherWarmUp.MIN_BACKLOG);
        List<Storage.StoredObject> records = sealing.raw().list("wal_archive/" + KeyRing.KEYS_DIR);
        assertThat(records).as("the day's keyset record, made before the first segment").hasSize(1);
        assertThat(sealing.raw().stat(PlainInventory.KEY)).as("a new repository's inventory").isPresent();

        String segment = "wal_archive/000000010000000000000001.zst";
        sealing.write(segment, "segment".getBytes(StandardCharsets.UTF_8), Storage.WriteMode.CREATE_NEW);
        assertThat(sealing.raw().list("wal_archive/" + KeyRing.KEYS_DIR)).as("no second record").hasSize(1);
        try (InputStream in = sealing.raw().open(segment)) {
            assertThat(SealedFormat.peekRef(in, segment)).contains(records.get(0).key());
        }
        try (InputStream in = sealing.open(segment)) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("segment");
        }
    }

    @Test
    void aReaderWarmsTheOpeningPathUpOnceItHasOpenedMoreThanOneSegmentsWorth() throws Exception {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        KeyGenerator.Generated key = KeyGenerator.generate(dir.resolve("key.json"), Optional.empty());
        EncryptionConfig config = EncryptionConfig.keyFile(key.keyFile());
        SealingStorage writer = Sealing.load(config, Clock.systemUTC()).seal(new LocalStorage(repo));
        byte[] segment = new byte[6 << 20]; // about one compressed WAL segment
        new java.util.Random(3).nextBytes(segment);
        writer.write("wal_archive/000000010000000000000001.zst", segment, Storage.WriteMode.CREATE_NEW);
        writer.write("wal_archive/000000010000000000000002.zst", segment, Storage.WriteMode.CREATE_NEW);
        assertThat(writer.openingWarmedUp()).as("writing opens nothing").isFalse();

        SealingStorage reader = Sealing.load(config, Clock.systemUTC()).seal(new LocalStorage(repo));
        assertThat(reader.read("wal_archive/000000010000000000000001.zst")).isEqualTo(segment);
        assertThat(reader.openingWarmedUp()).as("a wal-fetch of one segment does not pay for it").isFalse();
        assertThat(reader.read("wal_archive/000000010000000000000002.zst")).isEqualTo(segment);
        assertThat(reader.openingWarmedUp()).as("past " + CipherWarmUp.ForOpening.THRESHOLD + " bytes").isTrue();
        assertThat(CipherWarmUp.runOpening()).as("the warm-up itself seals and opens").isTrue();
    }
}
