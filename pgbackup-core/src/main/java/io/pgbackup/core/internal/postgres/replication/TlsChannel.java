package io.pgbackup.core.internal.postgres.replication;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * TLS over the connection's non-blocking channel through an {@link SSLEngine}, with the same
 * contract as the channel: {@link #read} returns 0 only when no whole record is buffered (the
 * caller then waits on the selector), {@link #write} consumes what it can and {@link #flushed}
 * says whether every encrypted byte reached the socket.
 */
final class TlsChannel {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SocketChannel channel;
    private final SSLEngine engine;
    private ByteBuffer netIn;
    private ByteBuffer netOut;
    private ByteBuffer appIn;
    private boolean handshakeDone;

    TlsChannel(SocketChannel channel, SSLEngine engine) {
        this.channel = channel;
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(packet);
        this.netOut = ByteBuffer.allocate(packet).flip();
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
    }

    /** Runs the handshake, waiting on {@code selector} up to {@code deadline} (System.nanoTime). */
    void handshake(Selector selector, SelectionKey key, long deadline, String address) throws IOException {
        engine.beginHandshake();
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> runTasks();
                case NEED_WRAP -> {
                    wrap(EMPTY);
                    while (!flushed()) {
                        await(selector, key, SelectionKey.OP_WRITE, deadline, address);
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (!unwrap()) {
                        int n = channel.read(netIn);
                        if (n < 0) {
                            throw new EOFException("server at " + address + " closed the connection during the TLS"
                                    + " handshake");
                        }
                        if (n == 0) {
                            await(selector, key, SelectionKey.OP_READ, deadline, address);
                        }
                    }
                }
                default -> {
                    while (!flushed()) {
                        await(selector, key, SelectionKey.OP_WRITE, deadline, address);
                    }
                    key.interestOps(0);
                    handshakeDone = true;
                    return;
                }
            }
        }
    }

    private static void await(Selector selector, SelectionKey key, int op, long deadline, String address)
            throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("server at " + address + " did not complete the TLS handshake in time");
        }
        key.interestOps(op);
        selector.select(Math.max(1, left / 1_000_000));
        selector.selectedKeys().clear();
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedIOException("interrupted during the TLS handshake with server at " + address);
        }
    }

    /** The server's certificate, for SCRAM's tls-server-end-point channel binding. */
    X509Certificate serverCertificate() throws SSLPeerUnverifiedException {
        Certificate[] chain = engine.getSession().getPeerCertificates();
        return (X509Certificate) chain[0];
    }

    String protocol() {
        return engine.getSession().getProtocol();
    }

    /** Decrypts into {@code dst}: bytes moved, 0 when a whole record is still to come, -1 at the end. */
    int read(ByteBuffer dst) throws IOException {
        while (true) {
            if (appIn.position() > 0) {
                appIn.flip();
                int n = Math.min(appIn.remaining(), dst.remaining());
                ByteBuffer part = appIn.slice(appIn.position(), n);
                dst.put(part);
                appIn.position(appIn.position() + n);
                appIn.compact();
                return n;
            }
            if (engine.isInboundDone()) {
                return -1;
            }
            if (!unwrap()) {
                int n = channel.read(netIn);
                if (n <= 0) {
                    return n;
                }
            }
        }
    }

    /**
     * Unwraps what {@code netIn} holds into {@code appIn}; false when a whole record is missing.
     * Post-handshake messages (TLS 1.3 session tickets, key updates) are handled on the way.
     */
    private boolean unwrap() throws IOException {
        if (netIn.position() == 0) {
            return false;
        }
        netIn.flip();
        SSLEngineResult result;
        try {
            result = engine.unwrap(netIn, appIn);
        } finally {
            netIn.compact();
        }
        switch (result.getStatus()) {
            case BUFFER_UNDERFLOW -> {
                if (netIn.position() == netIn.capacity()) {
                    netIn = grow(netIn, engine.getSession().getPacketBufferSize());
                }
                return false;
            }
            case BUFFER_OVERFLOW -> {
                appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
                return true;
            }
            case CLOSED -> {
                return true;
            }
            default -> {
                if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                    runTasks();
                }
                if (handshakeDone && engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                    wrap(EMPTY); // a key update's answer
                    flushed(); // best effort: the rest goes with the next write
                }
                return true;
            }
        }
    }

    /** Encrypts from {@code src} once earlier output is out; returns the plaintext bytes consumed. */
    int write(ByteBuffer src) throws IOException {
        if (!flushed()) {
            return 0;
        }
        int before = src.remaining();
        wrap(src);
        flushed();
        return before - src.remaining();
    }

    private void wrap(ByteBuffer src) throws IOException {
        netOut.compact();
        try {
            while (true) {
                SSLEngineResult result = engine.wrap(src, netOut);
                switch (result.getStatus()) {
                    case BUFFER_OVERFLOW -> netOut = growForWrite(netOut);
                    case CLOSED -> {
                        if (!src.hasRemaining()) {
                            return;
                        }
                        throw new SSLException("the TLS session is closed");
                    }
                    default -> {
                        if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                            runTasks();
                        }
                        return;
                    }
                }
            }
        } finally {
            netOut.flip();
        }
    }

    /** Writes pending encrypted bytes; true when none are left. */
    boolean flushed() throws IOException {
        if (netOut.hasRemaining()) {
            channel.write(netOut);
        }
        return !netOut.hasRemaining();
    }

    /** Best effort close_notify, without waiting. */
    void closeOutbound() {
        try {
            engine.closeOutbound();
            wrap(EMPTY);
            flushed();
        } catch (IOException | RuntimeException e) {
            // the peer may be gone; nothing to tell it
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private static ByteBuffer grow(ByteBuffer writeMode, int atLeast) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(atLeast, writeMode.capacity() * 2));
        writeMode.flip();
        bigger.put(writeMode);
        return bigger;
    }

    private ByteBuffer growForWrite(ByteBuffer writeMode) {
        return grow(writeMode, engine.getSession().getPacketBufferSize());
    }
}
