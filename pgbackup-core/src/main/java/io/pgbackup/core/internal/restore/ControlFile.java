package io.pgbackup.core.internal.restore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/** What a restore reads of a data directory's {@code global/pg_control}. */
final class ControlFile {
    private ControlFile() {
    }

    /**
     * The system identifier: pg_control's first field, a uint64 in the server's byte order
     * (little-endian on x86 and ARM), as the decimal text manifests carry; empty when unreadable.
     */
    static Optional<String> systemIdentifier(Path dataDir) {
        Path control = dataDir.resolve("global").resolve("pg_control");
        if (!Files.isRegularFile(control, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try (InputStream in = Files.newInputStream(control, LinkOption.NOFOLLOW_LINKS)) {
            byte[] first = in.readNBytes(8);
            if (first.length < 8) {
                return Optional.empty();
            }
            return Optional.of(Long.toUnsignedString(ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getLong()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
