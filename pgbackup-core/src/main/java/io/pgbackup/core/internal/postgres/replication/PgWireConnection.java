package io.pgbackup.core.internal.postgres.replication;

import io.pgbackup.core.config.SslMode;
import io.pgbackup.core.config.TlsConfig;
import io.pgbackup.core.internal.postgres.tls.TlsContexts;

import java.io.ByteArrayOutputStream;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;

/**
 * A minimal frontend/backend protocol v3 client for physical replication connections, over a
 * non-blocking {@link SocketChannel} and a {@link Selector}, so that another thread can wake or
 * abort a read ({@link #wakeup()}, {@link #abort()}) and a read can wait with a timeout.
 *
 * <p>Over TCP the connection asks for TLS as {@link TlsConfig#mode()} says (SSLRequest, then a JSSE
 * handshake through {@link TlsChannel}); a Unix-domain socket stays plain, as in libpq. A password
 * is never sent in clear text over TCP without TLS, and SCRAM binds to the TLS channel
 * ({@code SCRAM-SHA-256-PLUS}) when the server offers it.
 *
 * <p>One thread owns a connection at a time; only {@link #wakeup()} and {@link #abort()} may be
 * called from elsewhere. A {@link Message}'s payload is valid until the next read.
 */
final class PgWireConnection implements Closeable {
    private static final int PROTOCOL_3_0 = 196608;
    private static final int SSL_REQUEST = 80877103;
    private static final int MAX_MESSAGE = 256 << 20;

    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private final String address;
    private TlsChannel tls;
    private String saslMechanism;
    private final ByteBuffer in = ByteBuffer.allocate(256 * 1024).flip();
    private byte[] body = new byte[8192];
    private final Map<String, String> parameters = new HashMap<>();
    private int backendPid;
    private long startupDeadline;
    private Duration startupTimeout;
    private volatile boolean aborted;
    private volatile boolean wakeRequested;

    /** A message from the server: its type and its body (without type and length). */
    record Message(byte type, ByteBuffer payload) {
        String cstring() {
            int start = payload.position();
            int end = start;
            while (payload.get(end) != 0) {
                end++;
            }
            payload.position(end + 1);
            return new String(payload.array(), payload.arrayOffset() + start, end - start, StandardCharsets.UTF_8);
        }
    }

    /** One result set of a simple query: column names and rows of text values (null for SQL NULL). */
    record ResultSet(List<String> columns, List<List<String>> rows) {
        String value(int row, int column) {
            return rows.get(row).get(column);
        }
    }

    private PgWireConnection(SocketChannel channel, Selector selector, String address) throws IOException {
        this.channel = channel;
        this.selector = selector;
        this.address = address;
        this.key = channel.register(selector, 0);
    }

    /** Connects, starts a physical replication session and authenticates. */
    static PgWireConnection open(ReplicationSettings settings) throws IOException {
        SslMode mode = settings.tls().mode();
        if (settings.unixSocket() || mode == SslMode.DISABLE) {
            return open(settings, false);
        }
        if (mode == SslMode.ALLOW) {
            try {
                return open(settings, false);
            } catch (ReplicationException e) {
                // libpq's allow: the server refused the plain connection (e.g. hostssl lines only), so try TLS
                return open(settings, true);
            }
        }
        return open(settings, true);
    }

    private static PgWireConnection open(ReplicationSettings settings, boolean tryTls) throws IOException {
        long deadline = System.nanoTime() + settings.connectTimeout().toNanos();
        PgWireConnection connection = connect(settings, deadline);
        try {
            // the connect timeout covers the whole startup: a server that accepts but never answers fails too
            connection.startupDeadline = deadline;
            connection.startupTimeout = settings.connectTimeout();
            if (tryTls) {
                connection.negotiateTls(settings);
            }
            connection.startup(settings);
            connection.startupDeadline = 0;
            return connection;
        } catch (IOException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    private static PgWireConnection connect(ReplicationSettings settings, long deadline) throws IOException {
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

    private static PgWireConnection connectTo(SocketChannel channel, SocketAddress target, ReplicationSettings settings,
                                              long deadline) throws IOException {
        Selector selector = null;
        try {
            channel.configureBlocking(false);
            selector = Selector.open();
            PgWireConnection connection = new PgWireConnection(channel, selector, settings.address());
            try {
                if (!channel.connect(target)) {
                    connection.key.interestOps(SelectionKey.OP_CONNECT);
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
                connection.key.interestOps(0);
                return connection;
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

    /** SSLRequest, then the handshake on 'S'; on 'N' plain, unless the mode requires TLS. */
    private void negotiateTls(ReplicationSettings settings) throws IOException {
        writeFully(ByteBuffer.allocate(8).putInt(8).putInt(SSL_REQUEST).flip());
        // exactly one byte: anything the server sends after 'S' before the handshake must not be read as plaintext
        ByteBuffer answer = ByteBuffer.allocate(1);
        while (answer.hasRemaining()) {
            checkOpen();
            int n = channel.read(answer);
            if (n < 0) {
                throw new EOFException("server at " + address + " closed the connection unexpectedly");
            }
            if (n == 0) {
                long left = startupDeadline - System.nanoTime();
                if (left <= 0) {
                    throw new SocketTimeoutException("server at " + address + " did not complete the connection"
                            + " startup within " + startupTimeout.toSeconds() + " s");
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
                    t.handshake(selector, key, startupDeadline, address);
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

    /** Whether this connection runs over TLS. */
    boolean encrypted() {
        return tls != null;
    }

    /** The TLS layer, or null on a plain connection. */
    TlsChannel tls() {
        return tls;
    }

    /** The SASL mechanism authentication used ({@code SCRAM-SHA-256-PLUS} when bound to TLS), or null. */
    String saslMechanism() {
        return saslMechanism;
    }

    private void startup(ReplicationSettings settings) throws IOException {
        ByteArrayOutputStream params = new ByteArrayOutputStream();
        for (String s : List.of("user", settings.user(), "replication", "true", "application_name", "pgbackup")) {
            params.writeBytes(cstring(s));
        }
        params.write(0);
        byte[] p = params.toByteArray();
        ByteBuffer startup = ByteBuffer.allocate(8 + p.length);
        startup.putInt(8 + p.length).putInt(PROTOCOL_3_0).put(p).flip();
        writeFully(startup);
        saslMechanism = WireAuthenticator.authenticate(this, settings);
        while (true) {
            Message m = read();
            switch (m.type()) {
                case 'S' -> parameters.put(m.cstring(), m.cstring());
                case 'K' -> backendPid = m.payload().getInt();
                case 'N' -> { } // notices are not errors
                case 'E' -> throw error(m);
                case 'Z' -> {
                    return;
                }
                default -> throw protocolError("during startup", m);
            }
        }
    }

    /** Says what to set when the server's pg_hba.conf demands TLS (hostssl) and this connection has none. */
    ReplicationException withSslHint(ReplicationException e, ReplicationSettings settings) {
        String message = e.getMessage();
        if (tls == null && message != null && message.contains("no encryption")) {
            String fix = settings.unixSocket() ? "connect over TCP (PG_HOST=a host name or address) with "
                    + TlsConfig.PG_SSLMODE + "=require" : "set " + TlsConfig.PG_SSLMODE + "=require or verify-full";
            return new ReplicationException(message + " (the server accepts only TLS connections: " + fix + ")",
                    e.sqlState().orElse(null));
        }
        return e;
    }

    int backendPid() {
        return backendPid;
    }

    String parameter(String name) {
        return parameters.get(name);
    }

    String address() {
        return address;
    }

    /** Sends a simple query, without waiting for its result. */
    void sendQuery(String sql) throws IOException {
        send('Q', cstring(sql));
    }

    /** Runs a command that returns result sets (no COPY) and returns them. */
    List<ResultSet> query(String sql) throws IOException {
        sendQuery(sql);
        List<ResultSet> results = new ArrayList<>();
        ReplicationException failure = null;
        while (true) {
            Message m = read();
            switch (m.type()) {
                case 'T' -> results.add(new ResultSet(columns(m), new ArrayList<>()));
                case 'D' -> {
                    if (results.isEmpty()) {
                        throw protocolError("answering " + sql, m);
                    }
                    results.get(results.size() - 1).rows().add(row(m));
                }
                case 'C', 'I', 'N', 'S' -> { }
                case 'E' -> failure = error(m);
                case 'Z' -> {
                    if (failure != null) {
                        throw failure;
                    }
                    return results;
                }
                default -> throw protocolError("answering " + sql, m);
            }
        }
    }

    /** Reads one result set (RowDescription, DataRows, CommandComplete) at the current point of a command's answer. */
    ResultSet readResultSet(String what) throws IOException {
        ResultSet result = null;
        while (true) {
            Message m = read();
            switch (m.type()) {
                case 'T' -> result = new ResultSet(columns(m), new ArrayList<>());
                case 'D' -> {
                    if (result == null) {
                        throw protocolError("reading " + what, m);
                    }
                    result.rows().add(row(m));
                }
                case 'C' -> {
                    if (result != null) {
                        return result;
                    }
                }
                case 'N', 'S' -> { }
                case 'E' -> throw error(m);
                default -> throw protocolError("reading " + what, m);
            }
        }
    }

    /** Reads up to ReadyForQuery, failing on an ErrorResponse. */
    void readUntilReady(String what) throws IOException {
        ReplicationException failure = null;
        while (true) {
            Message m = read();
            switch (m.type()) {
                case 'E' -> failure = error(m);
                case 'Z' -> {
                    if (failure != null) {
                        throw failure;
                    }
                    return;
                }
                case 'C', 'N', 'S', 'T', 'D', 'I' -> { }
                default -> throw protocolError("finishing " + what, m);
            }
        }
    }

    private static List<String> columns(Message m) {
        int n = m.payload().getShort() & 0xFFFF;
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            names.add(m.cstring());
            m.payload().position(m.payload().position() + 18);
        }
        return names;
    }

    private static List<String> row(Message m) {
        ByteBuffer p = m.payload();
        int n = p.getShort() & 0xFFFF;
        List<String> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int len = p.getInt();
            if (len < 0) {
                values.add(null);
            } else {
                values.add(new String(p.array(), p.arrayOffset() + p.position(), len, StandardCharsets.UTF_8));
                p.position(p.position() + len);
            }
        }
        return values;
    }

    /** The server's ErrorResponse as one line: {@code SEVERITY: message DETAIL: ... HINT: ...}. */
    static ReplicationException error(Message m) {
        Map<Character, String> fields = new HashMap<>();
        ByteBuffer p = m.payload();
        while (p.hasRemaining()) {
            byte code = p.get();
            if (code == 0) {
                break;
            }
            fields.put((char) code, m.cstring());
        }
        StringBuilder text = new StringBuilder();
        text.append(fields.getOrDefault('S', "ERROR")).append(": ").append(fields.getOrDefault('M', "(no message)"));
        if (fields.containsKey('D')) {
            text.append(" DETAIL: ").append(fields.get('D'));
        }
        if (fields.containsKey('H')) {
            text.append(" HINT: ").append(fields.get('H'));
        }
        return new ReplicationException(text.toString().replaceAll("\\s*\\R\\s*", " "), fields.get('C'));
    }

    IOException protocolError(String when, Message m) {
        return new IOException("unexpected message '" + (char) m.type() + "' from server at " + address + " " + when);
    }

    /** Sends one message (type byte, length, body). */
    void send(char type, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(5 + payload.length);
        b.put((byte) type).putInt(4 + payload.length).put(payload).flip();
        writeFully(b);
    }

    /** Sends CopyData whose content is {@code content}. */
    void sendCopyData(byte[] content) throws IOException {
        send('d', content);
    }

    /** Reads the next message, waiting as long as it takes. */
    Message read() throws IOException {
        while (true) {
            long timeout = -1;
            if (startupDeadline != 0) {
                timeout = Math.max(1, (startupDeadline - System.nanoTime()) / 1_000_000);
            }
            Message m = read(timeout);
            if (m != null) {
                return m;
            }
            if (startupDeadline != 0 && System.nanoTime() - startupDeadline >= 0) {
                throw new SocketTimeoutException("server at " + address + " did not complete the connection startup"
                        + " within " + startupTimeout.toSeconds() + " s");
            }
        }
    }

    /**
     * Reads the next message, or returns null when {@code timeoutMillis} (if not negative)
     * passes or {@link #wakeup()} was called first.
     */
    Message read(long timeoutMillis) throws IOException {
        long deadline = timeoutMillis < 0 ? -1 : System.nanoTime() + timeoutMillis * 1_000_000;
        if (!ensure(5, deadline)) {
            return null;
        }
        int start = in.position();
        byte type = in.get(start);
        int length = in.getInt(start + 1);
        if (length < 4 || length > MAX_MESSAGE) {
            throw new IOException("invalid message length " + length + " (type '" + (char) type + "') from server at "
                    + address + ": is it a PostgreSQL server?");
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
        return new Message(type, ByteBuffer.wrap(body, 0, bodyLength).slice());
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
        } finally {
            in.flip();
        }
    }

    private void writeFully(ByteBuffer b) throws IOException {
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

    /** From any thread: makes a pending or the next {@link #read(long)} with a timeout return null. */
    void wakeup() {
        wakeRequested = true;
        selector.wakeup();
    }

    /**
     * From any thread: shuts the socket down at once (the server sees the connection end) and
     * makes the owner's reads and writes fail.
     */
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

    /** By the owner: says goodbye if the connection is still sound, and releases the socket. */
    @Override
    public void close() {
        try {
            if (!aborted && channel.isOpen() && channel.isConnected()) {
                ByteBuffer terminate = ByteBuffer.allocate(5).put((byte) 'X').putInt(4).flip();
                if (tls == null) {
                    channel.write(terminate); // best effort, non-blocking
                } else {
                    tls.write(terminate);
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

    static byte[] cstring(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, out, 0, bytes.length);
        return out;
    }
}
