package io.pgbackup.core.internal.crypto;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * A sealed object's layout:
 * <pre>
 * 8 bytes  magic 0x89 'P' 'G' 'B' 'S' 'E' 'A' 'L' (no gzip, zstd, lz4, JSON or tar file starts so)
 * 1 byte   version, 1
 * 2 bytes  length n of the keyset record's key, big-endian
 * n bytes  that key, UTF-8: the data keyset this object needs (e.g. wal_archive/keys/20261206-1a2b3c4d.json)
 * rest     Tink streaming AEAD ciphertext (AES-256-GCM-HKDF, 64 KiB segments; before: 4 KiB or 1 MiB, the keyset says) of the compressed bytes
 * </pre>
 * The ciphertext's associated data is {@code pgbackup-object-v1:<object key>\0<keyset record key>}:
 * an object copied over another's name, or pointed at another keyset, does not open.
 */
public final class SealedFormat {
    static final byte[] MAGIC = {(byte) 0x89, 'P', 'G', 'B', 'S', 'E', 'A', 'L'};
    static final int VERSION = 1;
    private static final int MAX_REF = 1024;

    private SealedFormat() {
    }

    static void writeHeader(OutputStream out, String keysetKey) throws IOException {
        byte[] ref = keysetKey.getBytes(StandardCharsets.UTF_8);
        out.write(MAGIC);
        out.write(VERSION);
        out.write(ref.length >>> 8);
        out.write(ref.length & 0xff);
        out.write(ref);
    }

    static byte[] associatedData(String objectKey, String keysetKey) {
        return ("pgbackup-object-v1:" + objectKey + "\0" + keysetKey).getBytes(StandardCharsets.UTF_8);
    }

    /** Whether {@code head} (the first bytes of an object) begins with the magic. */
    static boolean isSealed(byte[] head, int length) {
        return length >= MAGIC.length && Arrays.equals(head, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    /** After the magic: the version and the keyset key. */
    static String readRef(InputStream in, String objectKey) throws IOException {
        DataInputStream data = new DataInputStream(in);
        try {
            int version = data.readUnsignedByte();
            if (version != VERSION) {
                throw new AuthenticationException(objectKey + " is sealed in format " + version + ", this pgbackup reads "
                        + VERSION + ": use a newer pgbackup");
            }
            int length = data.readUnsignedShort();
            if (length == 0 || length > MAX_REF) {
                throw new AuthenticationException(objectKey + " has a damaged sealed header (keyset name of " + length + " bytes)");
            }
            return new String(data.readNBytes(length), StandardCharsets.UTF_8);
        } catch (EOFException e) {
            throw new AuthenticationException(objectKey + " has a truncated sealed header");
        }
    }

    /** The keyset an object's header names, read from its first bytes; empty for a plain object. */
    public static Optional<String> peekRef(InputStream in, String objectKey) throws IOException {
        byte[] head = in.readNBytes(MAGIC.length);
        if (!isSealed(head, head.length)) {
            return Optional.empty();
        }
        return Optional.of(readRef(in, objectKey));
    }

    /** An object that does not open: altered, damaged, sealed under another name, or its keyset is not ours. */
    public static final class AuthenticationException extends IOException {
        public AuthenticationException(String message) {
            super(message);
        }
    }

    /** A sealed object this host has no key to open (no key configured, or only the public half). */
    public static class NoKeyException extends IOException {
        public NoKeyException(String message) {
            super(message);
        }
    }

    /** A sealed object whose keyset is wrapped under other keys than the configured one (an old key after rotation). */
    public static final class OtherKeyException extends NoKeyException {
        public OtherKeyException(String message) {
            super(message);
        }
    }

    /**
     * A sealed write into a repository that holds plain objects but was never turned sealed by
     * {@code pgbackup init}: no inventory of its plain objects exists to tell them from planted ones.
     */
    public static final class NotTurnedOnException extends IOException {
        public NotTurnedOnException(String message) {
            super(message);
        }
    }
}
