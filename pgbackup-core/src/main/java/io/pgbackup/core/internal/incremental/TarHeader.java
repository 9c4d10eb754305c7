package io.pgbackup.core.internal.incremental;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** One 512-byte ustar header as PostgreSQL's tarCreateHeader writes it: read, and renamed/resized. */
final class TarHeader {
    static final int BLOCK = 512;
    private static final int NAME = 0;
    private static final int NAME_LENGTH = 100;
    private static final int SIZE = 124;
    private static final int CHECKSUM = 148;
    private static final int TYPE = 156;
    private static final int PREFIX = 345;
    private static final int PREFIX_LENGTH = 155;

    private final byte[] bytes;

    private TarHeader(byte[] bytes) {
        this.bytes = bytes;
    }

    static TarHeader of(byte[] block) {
        return new TarHeader(Arrays.copyOf(block, BLOCK));
    }

    static boolean isZero(byte[] block) {
        for (int i = 0; i < BLOCK; i++) {
            if (block[i] != 0) {
                return false;
            }
        }
        return true;
    }

    byte[] bytes() {
        return bytes;
    }

    String path() {
        String name = field(NAME, NAME_LENGTH);
        boolean ustar = new String(bytes, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
        String prefix = ustar ? field(PREFIX, PREFIX_LENGTH) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    /** A regular file ('0' or the old NUL); directories, links and symlinks are not. */
    boolean isRegularFile() {
        byte t = bytes[TYPE];
        return t == '0' || t == 0;
    }

    long size() throws IOException {
        if ((bytes[SIZE] & 0x80) != 0) {
            long v = 0;
            for (int i = SIZE + 1; i < SIZE + 12; i++) {
                v = v << 8 | (bytes[i] & 0xff);
            }
            return v;
        }
        String text = field(SIZE, 12).trim();
        try {
            return text.isEmpty() ? 0 : Long.parseLong(text, 8);
        } catch (NumberFormatException e) {
            throw new IOException("tar header of " + path() + " has an unreadable size '" + text + "'");
        }
    }

    /** The same entry under another file name in the same directory and with another size. */
    TarHeader renamed(String newPath, long newSize) throws IOException {
        byte[] copy = Arrays.copyOf(bytes, BLOCK);
        byte[] name = newPath.getBytes(StandardCharsets.UTF_8);
        if (name.length >= NAME_LENGTH) {
            throw new IOException("tar path too long for an incremental entry: " + newPath);
        }
        Arrays.fill(copy, NAME, NAME + NAME_LENGTH, (byte) 0);
        Arrays.fill(copy, PREFIX, PREFIX + PREFIX_LENGTH, (byte) 0);
        System.arraycopy(name, 0, copy, NAME, name.length);
        byte[] size = String.format("%011o", newSize).getBytes(StandardCharsets.US_ASCII);
        if (size.length != 11) {
            throw new IOException("incremental entry too large for a tar header: " + newSize + " bytes");
        }
        System.arraycopy(size, 0, copy, SIZE, 11);
        copy[SIZE + 11] = 0;
        Arrays.fill(copy, CHECKSUM, CHECKSUM + 8, (byte) ' ');
        long sum = 0;
        for (byte b : copy) {
            sum += b & 0xff;
        }
        byte[] checksum = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(checksum, 0, copy, CHECKSUM, 6);
        copy[CHECKSUM + 6] = 0;
        copy[CHECKSUM + 7] = ' ';
        return new TarHeader(copy);
    }

    /** Bytes of padding after {@code size} bytes of content. */
    static long padding(long size) {
        long rest = size % BLOCK;
        return rest == 0 ? 0 : BLOCK - rest;
    }

    private String field(int offset, int length) {
        int end = offset;
        while (end < offset + length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, offset, end - offset, StandardCharsets.UTF_8);
    }
}
