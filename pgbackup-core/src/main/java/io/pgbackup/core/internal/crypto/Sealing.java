package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.time.Clock;
import java.util.Optional;

/**
 * The configured wrap key (loaded once per command) and what is built on it: each storage the
 * command uses gets a {@link SealingStorage} with its own {@link KeyRing}. Without a key the
 * storages are still wrapped, so sealed objects are recognised and refused with a line rather
 * than parsed as garbage.
 */
public final class Sealing {
    private final Optional<WrapKey> key;
    private final Clock clock;

    private Sealing(Optional<WrapKey> key, Clock clock) {
        this.key = key;
        this.clock = clock;
    }

    public static Sealing load(EncryptionConfig config, Clock clock) {
        return new Sealing(WrapKeys.load(config), clock);
    }

    public Optional<WrapKey> key() {
        return key;
    }

    public SealingStorage seal(Storage storage) {
        if (storage instanceof SealingStorage s) {
            return s;
        }
        return new SealingStorage(storage, new KeyRing(storage, key, clock));
    }

    /**
     * Copies one object's stored bytes from {@code from} to {@code to} as they are (sealed stays
     * sealed), the keyset record its header names first when {@code to} lacks it. The copy is
     * created with {@code mode}; an existing keyset record is left as it is.
     */
    public static void copyStored(Storage from, Storage to, String key, Storage.WriteMode mode) throws IOException {
        copyStored(from, to, key, mode, in -> in);
    }

    /** As above, the object's bytes read through {@code tap} (a progress counter). */
    public static void copyStored(Storage from, Storage to, String key, Storage.WriteMode mode,
                                  java.util.function.UnaryOperator<InputStream> tap) throws IOException {
        Storage source = SealingStorage.rawOf(from);
        Storage target = SealingStorage.rawOf(to);
        Optional<String> record;
        try (InputStream in = source.open(key)) {
            record = SealedFormat.peekRef(in, key);
        }
        if (record.isPresent() && target.stat(record.get()).isEmpty()) {
            try {
                target.write(record.get(), source.read(record.get()), Storage.WriteMode.CREATE_NEW);
            } catch (FileAlreadyExistsException e) {
                // copied meanwhile by another sync
            }
        }
        try (InputStream in = tap.apply(source.open(key)); Storage.ObjectWriter writer = target.create(key, mode)) {
            in.transferTo(writer.stream());
            writer.commit();
        }
    }
}
