package io.pgbackup.core.internal.postgres.replication;

import io.pgbackup.core.config.TlsConfig.SslMode;
import io.pgbackup.core.config.TlsConfig;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal frontend/backend protocol v3 client for physical replication connections: startup
 * and authentication ({@link WireAuthenticator}), simple queries and COPY streams. The bytes go
 * through a {@link WireTransport} (socket, selector, TLS), cut into messages by a
 * {@link MessageReader}, so that another thread can wake or abort a read ({@link #wakeup()},
 * {@link #abort()}) and a read can wait with a timeout.
 *
 * <p>Over TCP the connection asks for TLS as {@link TlsConfig#mode()} says (SSLRequest, then a JSSE
 * handshake through {@link TlsChannel}); a Unix-domain socket stays plain, as in libpq. A password
 * is never sent in clear text over TCP without TLS, and SCRAM binds to the TLS channel
 * ({@code SCRAM-SHA-256-PLUS}) when the server offers it.
 *
 * <p>One thread owns a connection at a time; only {@link #wakeup()} and {@link #abort()} may be
 * called from elsewhere. A {@link BackendMessage}'s payload is valid until the next read.
 */
final class PgWireConnection implements Closeable {
    private static final int PROTOCOL_3_0 = 196608;

    private final WireTransport transport;
    private final MessageReader reader;
    private String saslMechanism;
    private final Map<String, String> parameters = new HashMap<>();
    private int backendPid;
    private long startupDeadline;
    private Duration startupTimeout;

    /** Receives each CopyData message of a COPY OUT stream. */
    interface CopyDataHandler {
        void copyData(BackendMessage m) throws IOException;
    }

    private PgWireConnection(WireTransport transport) {
        this.transport = transport;
        this.reader = new MessageReader(transport);
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
        if (mode == SslMode.PREFER) {
            try {
                return open(settings, true);
            } catch (IOException e) {
                if (!tlsWasTheObstacle(e)) {
                    throw e;
                }
                // libpq's prefer: the TLS attempt failed (handshake, or no pg_hba.conf line for an
                // encrypted connection), so try once more in plain; a password still needs TLS or SCRAM
                return open(settings, false);
            }
        }
        return open(settings, true);
    }

    /** A failed handshake, or the server's pg_hba.conf rejecting the encrypted connection (SQLSTATE 28000). */
    private static boolean tlsWasTheObstacle(IOException e) {
        if (e.getCause() instanceof javax.net.ssl.SSLException) {
            return true;
        }
        return e instanceof ReplicationException r && r.sqlState().filter("28000"::equals).isPresent();
    }

    private static PgWireConnection open(ReplicationSettings settings, boolean tryTls) throws IOException {
        long deadline = System.nanoTime() + settings.connectTimeout().toNanos();
        PgWireConnection connection = new PgWireConnection(WireTransport.connect(settings, deadline));
        try {
            // the connect timeout covers the whole startup: a server that accepts but never answers fails too
            connection.startupDeadline = deadline;
            connection.startupTimeout = settings.connectTimeout();
            if (tryTls) {
                connection.transport.startTls(settings, deadline);
            }
            connection.startup(settings);
            connection.startupDeadline = 0;
            return connection;
        } catch (IOException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /** Whether this connection runs over TLS. */
    boolean encrypted() {
        return transport.tls() != null;
    }

    /** The TLS layer, or null on a plain connection. */
    TlsChannel tls() {
        return transport.tls();
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
        transport.write(startup);
        saslMechanism = WireAuthenticator.authenticate(this, settings);
        while (true) {
            BackendMessage m = read();
            switch (m.type()) {
                case 'S' -> parameters.put(m.cstring(), m.cstring());
                case 'K' -> backendPid = m.payload().getInt();
                case 'N' -> { } // notices are not errors
                case 'E' -> throw m.asError();
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
        if (!encrypted() && message != null && message.contains("no encryption")) {
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
        return transport.address();
    }

    /** Sends a simple query, without waiting for its result. */
    void sendQuery(String sql) throws IOException {
        send('Q', cstring(sql));
    }

    /** Runs a command that returns result sets (no COPY) and returns them. */
    List<QueryResult> query(String sql) throws IOException {
        sendQuery(sql);
        List<QueryResult> results = new ArrayList<>();
        ReplicationException failure = null;
        while (true) {
            BackendMessage m = read();
            switch (m.type()) {
                case 'T' -> results.add(new QueryResult(columns(m), new ArrayList<>()));
                case 'D' -> {
                    if (results.isEmpty()) {
                        throw protocolError("answering " + sql, m);
                    }
                    results.get(results.size() - 1).rows().add(row(m));
                }
                case 'C', 'I', 'N', 'S' -> { }
                case 'E' -> failure = m.asError();
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
    QueryResult readResultSet(String what) throws IOException {
        QueryResult result = null;
        while (true) {
            BackendMessage m = read();
            switch (m.type()) {
                case 'T' -> result = new QueryResult(columns(m), new ArrayList<>());
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
                case 'E' -> throw m.asError();
                default -> throw protocolError("reading " + what, m);
            }
        }
    }

    /** Reads up to ReadyForQuery, failing on an ErrorResponse. */
    void readUntilReady(String what) throws IOException {
        ReplicationException failure = null;
        while (true) {
            BackendMessage m = read();
            switch (m.type()) {
                case 'E' -> failure = m.asError();
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

    /** Waits for CopyOutResponse; {@code when} says in an error what was awaited. */
    void awaitCopyOut(String when) throws IOException {
        while (true) {
            BackendMessage m = read();
            switch (m.type()) {
                case 'H' -> {
                    return;
                }
                case 'C', 'N', 'S' -> { }
                case 'E' -> throw m.asError();
                default -> throw protocolError(when, m);
            }
        }
    }

    /** Waits for CopyInResponse ('G'), the server's go-ahead to send CopyData; {@code when} names it in an error. */
    void awaitCopyIn(String when) throws IOException {
        while (true) {
            BackendMessage m = read();
            switch (m.type()) {
                case 'G' -> {
                    return;
                }
                case 'N', 'S' -> { }
                case 'E' -> {
                    ReplicationException failure = m.asError();
                    readUntilReady(when);
                    throw failure;
                }
                default -> throw protocolError(when, m);
            }
        }
    }

    /** Ends a COPY IN: CopyDone ('c'). */
    void sendCopyDone() throws IOException {
        send('c', new byte[0]);
    }

    /** Reads a COPY OUT stream to its CopyDone, handing each CopyData to {@code handler}. */
    void readCopyOut(String when, CopyDataHandler handler) throws IOException {
        while (true) {
            BackendMessage m = read();
            switch (m.type()) {
                case 'd' -> handler.copyData(m);
                case 'c' -> {
                    return;
                }
                case 'N', 'S' -> { }
                case 'E' -> throw m.asError();
                default -> throw protocolError(when, m);
            }
        }
    }

    private static List<String> columns(BackendMessage m) {
        int n = m.payload().getShort() & 0xFFFF;
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            names.add(m.cstring());
            m.payload().position(m.payload().position() + 18);
        }
        return names;
    }

    private static List<String> row(BackendMessage m) {
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

    IOException protocolError(String when, BackendMessage m) {
        return new IOException("unexpected message '" + (char) m.type() + "' from server at " + address() + " " + when);
    }

    /** Sends one message (type byte, length, body). */
    void send(char type, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(5 + payload.length);
        b.put((byte) type).putInt(4 + payload.length).put(payload).flip();
        transport.write(b);
    }

    /** Sends CopyData whose content is {@code content}. */
    void sendCopyData(byte[] content) throws IOException {
        send('d', content);
    }

    /** Reads the next message, waiting as long as it takes (during startup: until the connect timeout). */
    BackendMessage read() throws IOException {
        while (true) {
            long timeout = -1;
            if (startupDeadline != 0) {
                timeout = Math.max(1, (startupDeadline - System.nanoTime()) / 1_000_000);
            }
            BackendMessage m = reader.read(timeout);
            if (m != null) {
                return m;
            }
            if (startupDeadline != 0 && System.nanoTime() - startupDeadline >= 0) {
                throw new SocketTimeoutException("server at " + address() + " did not complete the connection startup"
                        + " within " + startupTimeout.toSeconds() + " s");
            }
        }
    }

    /**
     * Reads the next message, or returns null when {@code timeoutMillis} (if not negative)
     * passes or {@link #wakeup()} was called first.
     */
    BackendMessage read(long timeoutMillis) throws IOException {
        return reader.read(timeoutMillis);
    }

    /** From any thread: makes a pending or the next {@link #read(long)} with a timeout return null. */
    void wakeup() {
        transport.wakeup();
    }

    /**
     * From any thread: shuts the socket down at once (the server sees the connection end) and
     * makes the owner's reads and writes fail.
     */
    void abort() {
        transport.abort();
    }

    /** By the owner: says goodbye (Terminate) if the connection is still sound, and releases the socket. */
    @Override
    public void close() {
        transport.close(ByteBuffer.allocate(5).put((byte) 'X').putInt(4).flip());
    }

    static byte[] cstring(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, out, 0, bytes.length);
        return out;
    }
}
