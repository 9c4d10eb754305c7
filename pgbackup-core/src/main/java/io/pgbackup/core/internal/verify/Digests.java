package io.pgbackup.core.internal.verify;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.zip.CRC32C;

/** The checksums PostgreSQL's backup manifest uses, computed incrementally. */
final class Digests {
    private Digests() {
    }

    static MessageDigest sha256() {
        return io.pgbackup.core.internal.storage.StoredFileCheck.sha256();
    }

    private static MessageDigest messageDigest(String name) {
        try {
            return MessageDigest.getInstance(name);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has " + name, e);
        }
    }

    /** A running checksum of one file's bytes. */
    interface Checksum {
        void update(byte[] bytes, int offset, int length);

        /** Hex, as the manifest writes it. */
        String hex();

        /** Whether the bytes seen have the manifest's checksum {@code expectedHex}. */
        default boolean matches(String expectedHex) {
            return hex().equalsIgnoreCase(expectedHex);
        }
    }

    /** A checksum for a manifest's {@code Checksum-Algorithm}, or {@code null} for {@code NONE}. */
    static Checksum forAlgorithm(String algorithm) {
        String a = algorithm.toUpperCase(Locale.ROOT);
        return switch (a) {
            case "NONE" -> null;
            case "CRC32C" -> new Crc32c();
            case "SHA224", "SHA256", "SHA384", "SHA512" -> new Sha(messageDigest("SHA-" + a.substring(3)));
            default -> throw new IllegalArgumentException("unknown checksum algorithm " + algorithm);
        };
    }

    /**
     * PostgreSQL writes the CRC's four bytes as they lie in the server's memory: little-endian on
     * x86 and ARM, big-endian on s390x. Either order is accepted, so a repository copied from one
     * to the other still verifies.
     */
    private static final class Crc32c implements Checksum {
        private final CRC32C crc = new CRC32C();

        public void update(byte[] bytes, int offset, int length) {
            crc.update(bytes, offset, length);
        }

        public String hex() {
            return hex(ByteOrder.LITTLE_ENDIAN);
        }

        private String hex(ByteOrder order) {
            return HexFormat.of().formatHex(ByteBuffer.allocate(4).order(order).putInt((int) crc.getValue()).array());
        }

        @Override
        public boolean matches(String expectedHex) {
            return hex(ByteOrder.LITTLE_ENDIAN).equalsIgnoreCase(expectedHex) || hex(ByteOrder.BIG_ENDIAN).equalsIgnoreCase(expectedHex);
        }
    }

    private static final class Sha implements Checksum {
        private final MessageDigest digest;

        Sha(MessageDigest digest) {
            this.digest = digest;
        }

        public void update(byte[] bytes, int offset, int length) {
            digest.update(bytes, offset, length);
        }

        public String hex() {
            return HexFormat.of().formatHex(digest.digest());
        }
    }
}
