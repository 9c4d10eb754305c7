package io.pgbackup.core.internal.postgres.replication;

import io.pgbackup.core.config.TlsConfig;
import io.pgbackup.core.internal.postgres.tls.TlsContexts;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/**
 * The bytes under a {@link PgWireConnection}: a non-blocking {@link SocketChannel} (TCP or a
 * Unix-domain socket) with a {@link Selector}, so that reads can wait with a timeout and another
 * thread can wake ({@link #wakeup()}) or end ({@link #abort()}) them; over TCP optionally TLS
 * through {@link TlsChannel}, negotiated by the protocol's SSLRequest ({@link #startTls}).
 */
final class WireTransport implements Closeable {
    private static final int SSL_REQUEST = 80877103;

    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private final String address;
    private TlsChannel tls;
    private volatile boolean aborted;
    private volatile boolean wakeRequested;

    private WireTransport(SocketChannel channel, Selector selector, String address) throws IOException {
        this.channel = channel;
        this.selector = selector;
        this.address = address;
        this.key = channel.register(selector, 0);
    }

    /** Connects to the settings' host (each of its addresses in turn) or Unix-domain socket by {@code deadline}. */
    static WireTransport connect(ReplicationSettings settings, long deadline) throws IOException {
        if (settings.unixSocket()) {
            SocketAddress target = UnixDomainSocketAddress.of(Path.of(settings.host(), ".s.PGSQL." + settings.port()));
            return connectTo(SocketChannel.open(StandardProtocolFamily.UNIX), target, settings, deadline);
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(settings.host());
        } catch (UnknownHostException e) {
            throw new IOException("could not translate host name \"" + settings.host() + "\" to an address", e);
        }
        IOException last = null;
        for (InetAddress a : addresses) {
            try {
                SocketChannel channel = SocketChannel.open();
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
                return connectTo(channel, new InetSocketAddress(a, settings.port()), settings, deadline);
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    private static WireTransport connectTo(SocketChannel channel, SocketAddress target, ReplicationSettings settings,
                                           long deadline) throws IOException {
        Selector selector = null;
        try {
            channel.configureBlocking(false);
            selector = Selector.open();
            WireTransport transport = new WireTransport(channel, selector, settings.address());
            try {
                if (!channel.connect(target)) {
                    transport.key.interestOps(SelectionKey.OP_CONNECT);
                    while (!channel.finishConnect()) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            throw new SocketTimeoutException("timed out after " + settings.connectTimeout().toSeconds()
                                    + " s connecting to " + settings.address());
                        }
                        selector.select(Math.max(1, left / 1_000_000));
                        selector.selectedKeys().clear();
                        if (Thread.currentThread().isInterrupted()) {
                            throw new InterruptedIOException("interrupted while connecting to " + settings.address());
                        }
                    }
                }
                transport.key.interestOps(0);
                return transport;
            } catch (InterruptedIOException e) {
                throw e;
            } catch (IOException e) {
                throw new IOException("could not connect to " + describe(target, settings) + ": " + e.getMessage(), e);
            }
        } catch (IOException | RuntimeException e) {
            channel.close();
            if (selector != null) {
                selector.close();
            }
            throw e;
        }
    }

    private static String describe(SocketAddress target, ReplicationSettings settings) {
        return settings.unixSocket() ? "socket " + settings.address() : "server at " + settings.host() + " ("
                + ((InetSocketAddress) target).getAddress().getHostAddress() + "), port " + settings.port();
    }

    /**
     * SSLRequest, then the JSSE handshake on 'S'; on 'N' stays plain, unless the mode requires
     * TLS. Both must be done by {@code deadline} (the startup's).
     */
    void startTls(ReplicationSettings settings, long deadline) throws IOException {
        write(ByteBuffer.allocate(8).putInt(8).putInt(SSL_REQUEST).flip());
        // exactly one byte: anything the server sends after 'S' before the handshake must not be read as plaintext
        ByteBuffer answer = ByteBuffer.allocate(1);
        while (answer.hasRemaining()) {
            checkOpen();
            int n = channel.read(answer);
            if (n < 0) {
                throw new EOFException("server at " + address + " closed the connection unexpectedly");
            }
            if (n == 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SocketTimeoutException("server at " + address + " did not complete the connection"
                            + " startup within " + settings.connectTimeout().toSeconds() + " s");
                }
                key.interestOps(SelectionKey.OP_READ);
                selector.select(Math.max(1, left / 1_000_000));
                selector.selectedKeys().clear();
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException("interrupted while connecting to " + address);
                }
            }
        }
        key.interestOps(0);
        TlsConfig config = settings.tls();
        switch (answer.get(0)) {
            case 'S' -> {
                TlsChannel t = new TlsChannel(channel, TlsContexts.clientEngine(TlsContexts.context(config), config,
                        settings.host(), settings.port()));
                try {
                    t.handshake(selector, key, deadline, address);
                } catch (SSLException e) {
                    throw new IOException(TlsContexts.explain(e, config, address), e);
                }
                tls = t;
            }
            case 'N' -> {
                if (config.mode().requiresTls()) {
                    throw new IOException("server at " + address + " does not accept TLS (ssl is off in postgresql.conf),"
                            + " but " + TlsConfig.PG_SSLMODE + "=" + config.mode().value() + " requires it: turn on ssl"
                            + " in the server, or set " + TlsConfig.PG_SSLMODE + "=prefer");
                }
            }
            default -> throw new IOException("server at " + address + " answered the SSL request with '"
                    + (char) answer.get(0) + "': is it a PostgreSQL server?");
        }
    }

    /** The TLS layer, or null on a plain connection. */
    TlsChannel tls() {
        return tls;
    }

    String address() {
        return address;
    }

    /**
     * Reads what is available into {@code in} (in write mode), waiting for at least one byte;
     * false when {@code deadline} (System.nanoTime, negative for none) passes or, with a
     * deadline, {@link #wakeup()} was called.
     */
    boolean read(ByteBuffer in, long deadline) throws IOException {
        while (true) {
            checkOpen();
            int n;
            try {
                n = tls == null ? channel.read(in) : tls.read(in);
            } catch (ClosedChannelException e) {
                checkOpen();
                throw e;
            }
            if (n < 0) {
                throw new EOFException("server at " + address + " closed the connection unexpectedly");
            }
            if (n > 0) {
                return true;
            }
            if (deadline >= 0 && wakeRequested) {
                wakeRequested = false;
                return false;
            }
            long waitMillis = 0;
            if (deadline >= 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                waitMillis = Math.max(1, left / 1_000_000);
            }
            key.interestOps(SelectionKey.OP_READ);
            selector.select(waitMillis);
            selector.selectedKeys().clear();
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedIOException("interrupted while reading from server at " + address);
            }
        }
    }

    /** Writes all of {@code b} (and, over TLS, flushes the records). */
    void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining() || (tls != null && !tls.flushed())) {
            checkOpen();
            int n;
            try {
                n = tls == null ? channel.write(b) : tls.write(b);
            } catch (ClosedChannelException e) {
                checkOpen();
                throw e;
            }
            if (n == 0) {
                key.interestOps(SelectionKey.OP_WRITE);
                selector.select(1000);
                selector.selectedKeys().clear();
                key.interestOps(0);
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException("interrupted while writing to server at " + address);
                }
            }
        }
    }

    private void checkOpen() throws IOException {
        if (aborted) {
            throw new IOException("connection to server at " + address + " was closed: the backup was aborted");
        }
    }

    /** From any thread: makes a pending or the next {@link #read} with a deadline return false. */
    void wakeup() {
        wakeRequested = true;
        selector.wakeup();
    }

    /** From any thread: shuts the socket down at once and makes the owner's reads and writes fail. */
    void abort() {
        aborted = true;
        try {
            channel.shutdownInput();
            channel.shutdownOutput();
        } catch (IOException | RuntimeException e) {
            // already closed or not connected: nothing to shut down
        }
        selector.wakeup();
    }

    /** Releases the socket without a goodbye. */
    @Override
    public void close() {
        close(null);
    }

    /** By the owner: sends {@code goodbye} (best effort) if the connection is still sound, and releases the socket. */
    void close(ByteBuffer goodbye) {
        try {
            if (goodbye != null && !aborted && channel.isOpen() && channel.isConnected()) {
                if (tls == null) {
                    channel.write(goodbye); // best effort, non-blocking
                } else {
                    tls.write(goodbye);
                    tls.closeOutbound();
                }
            }
        } catch (IOException | RuntimeException e) {
            // the server may be gone already
        }
        try {
            channel.close();
        } catch (IOException e) {
            // nothing left to release
        }
        try {
            selector.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }
}
