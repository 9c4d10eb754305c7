package io.pgbackup.core.internal.postgres.replication;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.StringPreparation;
import com.ongres.scram.common.exception.ScramException;
import com.ongres.scram.common.util.TlsServerEndpoint;
import io.pgbackup.core.internal.postgres.tls.JdbcTls;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The authentication exchange of a replication connection's startup: cleartext (only over TLS or
 * a Unix-domain socket), MD5, and SCRAM-SHA-256 through com.ongres.scram, the library pgjdbc uses,
 * bound to the TLS channel ({@code SCRAM-SHA-256-PLUS}, tls-server-end-point) when there is one.
 */
final class WireAuthenticator {
    private WireAuthenticator() {
    }

    /** Answers the server's authentication requests; returns the SASL mechanism used, or null. */
    static String authenticate(PgWireConnection c, ReplicationSettings settings) throws IOException {
        String address = c.address();
        ScramClient scram = null;
        boolean scramDone = false;
        while (true) {
            BackendMessage m = c.read();
            if (m.type() == 'E') {
                throw c.withSslHint(m.asError(), settings);
            }
            if (m.type() != 'R') {
                throw c.protocolError("during authentication", m);
            }
            int code = m.payload().getInt();
            switch (code) {
                case 0 -> {
                    if (scram != null && !scramDone) {
                        throw new IOException("server at " + address + " did not complete SCRAM authentication");
                    }
                    return scram == null ? null : scram.getScramMechanism().getName();
                }
                case 3 -> {
                    if (!c.encrypted() && !settings.unixSocket()) {
                        // a spoofed or misconfigured server must not collect the password off the wire
                        throw new IOException(JdbcTls.cleartextRefusal(address));
                    }
                    c.send('p', PgWireConnection.cstring(password(settings, address, "cleartext")));
                }
                case 5 -> {
                    byte[] salt = new byte[4];
                    m.payload().get(salt);
                    String hash = md5Password(settings.user(), password(settings, address, "MD5"), salt);
                    c.send('p', PgWireConnection.cstring(hash));
                }
                case 10 -> {
                    List<String> mechanisms = new ArrayList<>();
                    for (String s = m.cstring(); !s.isEmpty(); s = m.cstring()) {
                        mechanisms.add(s);
                    }
                    scram = scramClient(c, settings, mechanisms);
                    byte[] first = scram.clientFirstMessage().toString().getBytes(StandardCharsets.UTF_8);
                    byte[] name = PgWireConnection.cstring(scram.getScramMechanism().getName());
                    ByteBuffer b = ByteBuffer.allocate(name.length + 4 + first.length);
                    b.put(name).putInt(first.length).put(first);
                    c.send('p', b.array());
                }
                case 11 -> {
                    if (scram == null) {
                        throw new IOException("server at " + address + " sent SASL data before SASL started");
                    }
                    try {
                        scram.serverFirstMessage(m.remainingText());
                    } catch (ScramException | RuntimeException e) {
                        throw new IOException("invalid SCRAM message from server at " + address + ": " + e.getMessage());
                    }
                    c.send('p', scram.clientFinalMessage().toString().getBytes(StandardCharsets.UTF_8));
                }
                case 12 -> {
                    if (scram == null) {
                        throw new IOException("server at " + address + " sent SASL data before SASL started");
                    }
                    try {
                        scram.serverFinalMessage(m.remainingText());
                    } catch (ScramException | RuntimeException e) {
                        throw new IOException("SCRAM authentication with server at " + address + " failed: "
                                + e.getMessage());
                    }
                    scramDone = true;
                }
                case 2 -> throw new IOException("server at " + address + " asks for Kerberos V5 authentication,"
                        + " which pgbackup does not support");
                case 7, 8, 9 -> throw new IOException("server at " + address
                        + " asks for GSSAPI/SSPI authentication, which pgbackup does not support");
                default -> throw new IOException("server at " + address + " asks for authentication method " + code
                        + ", which pgbackup does not support");
            }
        }
    }

    /** SCRAM through com.ongres.scram (pgjdbc's), bound to the TLS channel when there is one. */
    private static ScramClient scramClient(PgWireConnection c, ReplicationSettings settings, List<String> mechanisms)
            throws IOException {
        String address = c.address();
        String password = password(settings, address, "SCRAM");
        try {
            ScramClient.FinalBuildStage builder = ScramClient.builder()
                    .advertisedMechanisms(mechanisms)
                    .username("*") // the server takes the startup packet's user
                    .password(password.toCharArray())
                    .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION);
            if (c.encrypted()) {
                builder.channelBinding(TlsServerEndpoint.TLS_SERVER_END_POINT,
                        TlsServerEndpoint.getChannelBindingData(c.tls().serverCertificate()));
            }
            return builder.build();
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot bind SCRAM to the TLS channel of server at " + address + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new IOException("server at " + address + " offers SASL mechanisms " + mechanisms
                    + ", pgbackup supports SCRAM-SHA-256 and SCRAM-SHA-256-PLUS");
        }
    }

    private static String password(ReplicationSettings settings, String address, String method) throws IOException {
        return settings.password().orElseThrow(() -> new IOException("server at " + address + " asks user "
                + settings.user() + " for a password (" + method + "), but none was given"));
    }

    private static String md5Password(String user, String password, byte[] salt) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            String inner = HexFormat.of().formatHex(md5.digest((password + user).getBytes(StandardCharsets.UTF_8)));
            md5.update(inner.getBytes(StandardCharsets.US_ASCII));
            md5.update(salt);
            return "md5" + HexFormat.of().formatHex(md5.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no MD5", e);
        }
    }
}
