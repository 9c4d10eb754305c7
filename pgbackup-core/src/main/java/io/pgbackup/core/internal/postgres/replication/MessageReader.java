package io.pgbackup.core.internal.postgres.replication;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Cuts the server's byte stream into messages (type byte, length, body). A message's payload
 * lives in a buffer reused by the next read, so that streaming a backup does not allocate per
 * message.
 */
final class MessageReader {
    private static final int MAX_MESSAGE = 256 << 20;

    private final WireTransport transport;
    private final ByteBuffer in = ByteBuffer.allocate(256 * 1024).flip();
    private byte[] body = new byte[8192];

    MessageReader(WireTransport transport) {
        this.transport = transport;
    }

    /**
     * Reads the next message, or returns null when {@code timeoutMillis} (if not negative) passes
     * or the transport was woken first; a message already begun is always read to its end.
     */
    BackendMessage read(long timeoutMillis) throws IOException {
        long deadline = timeoutMillis < 0 ? -1 : System.nanoTime() + timeoutMillis * 1_000_000;
        if (!ensure(5, deadline)) {
            return null;
        }
        int start = in.position();
        byte type = in.get(start);
        int length = in.getInt(start + 1);
        if (length < 4 || length > MAX_MESSAGE) {
            throw new IOException("invalid message length " + length + " (type '" + (char) type + "') from server at "
                    + transport.address() + ": is it a PostgreSQL server?");
        }
        int bodyLength = length - 4;
        in.position(start + 5);
        if (body.length < bodyLength) {
            body = new byte[Math.max(bodyLength, body.length * 2)];
        }
        int copied = 0;
        while (copied < bodyLength) {
            if (!in.hasRemaining()) {
                // mid-message: wait for the rest regardless of the caller's timeout
                fill(-1);
                continue;
            }
            int n = Math.min(in.remaining(), bodyLength - copied);
            in.get(body, copied, n);
            copied += n;
        }
        return new BackendMessage(type, ByteBuffer.wrap(body, 0, bodyLength).slice());
    }

    /** Makes sure {@code n} bytes are buffered; false on timeout or wakeup (nothing consumed). */
    private boolean ensure(int n, long deadline) throws IOException {
        while (in.remaining() < n) {
            if (!fill(deadline)) {
                return false;
            }
        }
        return true;
    }

    private boolean fill(long deadline) throws IOException {
        in.compact();
        try {
            return transport.read(in, deadline);
        } finally {
            in.flip();
        }
    }
}
