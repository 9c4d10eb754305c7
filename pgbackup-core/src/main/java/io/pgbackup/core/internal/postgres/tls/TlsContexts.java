package io.pgbackup.core.internal.postgres.tls;

import io.pgbackup.core.config.TlsConfig;

import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * JSSE contexts for {@link TlsConfig}: the chain is checked (PKIX) against PG_SSLROOTCERT when
 * the mode asks for it, the host name or address (subjectAltName) under {@code verify-full}, and
 * PG_SSLCERT/PG_SSLKEY are presented when the server asks for a client certificate. Shared by
 * JDBC ({@link PgSslSocketFactory}) and the replication client.
 */
public final class TlsContexts {
    private TlsContexts() {
    }

    public static SSLContext context(TlsConfig tls) throws TlsSetupException {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers(tls), new TrustManager[] {trustManager(tls)}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new TlsSetupException("cannot set up TLS: " + e.getMessage());
        }
    }

    /** A client engine for {@code host}, checking the host name or address when the mode says so. */
    public static SSLEngine clientEngine(SSLContext context, TlsConfig tls, String host, int port) {
        SSLEngine engine = context.createSSLEngine(host, port);
        engine.setUseClientMode(true);
        engine.setSSLParameters(parameters(engine.getSSLParameters(), tls));
        return engine;
    }

    /**
     * One line for a failed handshake: which check failed and what to set. JSSE's own text
     * follows, for what the line does not say.
     */
    public static String explain(Throwable failure, TlsConfig tls, String server) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            all.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append(' ');
        }
        String text = all.toString();
        String root = tls.rootCert().map(Path::toString).orElse("(none)");
        if (text.contains("No subject alternative") || text.contains("No name matching")) {
            return "the TLS certificate of server at " + server + " does not name that host (" + TlsConfig.PG_SSLMODE
                    + "=verify-full): connect with a host name or address the certificate lists in subjectAltName,"
                    + " or set " + TlsConfig.PG_SSLMODE + "=verify-ca";
        }
        if (text.contains("PKIX") || text.contains("CertPath") || text.contains("certification path")) {
            return "the TLS certificate of server at " + server + " is not signed by the CA in "
                    + TlsConfig.PG_SSLROOTCERT + "=" + root + ": set " + TlsConfig.PG_SSLROOTCERT
                    + " to the CA certificate that signed the server's";
        }
        if (text.contains("certificate_required") || text.contains("bad_certificate")
                || text.contains("unknown_ca")) {
            return "server at " + server + " refused the TLS client certificate: check " + TlsConfig.PG_SSLCERT
                    + " and " + TlsConfig.PG_SSLKEY + " (signed by the CA in the server's ssl_ca_file)";
        }
        String first = String.valueOf(failure.getMessage()).strip().split("\\R", 2)[0];
        return "TLS handshake with server at " + server + " failed: " + first;
    }

    static SSLParameters parameters(SSLParameters p, TlsConfig tls) {
        if (tls.verifiesHost()) {
            // JSSE's HTTPS rules: an IP literal must be an IP subjectAltName, a name a DNS one (RFC 2818), as libpq
            p.setEndpointIdentificationAlgorithm("HTTPS");
        }
        return p;
    }

    private static KeyManager[] keyManagers(TlsConfig tls) throws TlsSetupException, GeneralSecurityException {
        if (tls.clientCert().isEmpty() || tls.clientKey().isEmpty()) {
            return null;
        }
        List<X509Certificate> chain = PemFiles.certificates(TlsConfig.PG_SSLCERT, tls.clientCert().get());
        PrivateKey key = PemFiles.privateKey(TlsConfig.PG_SSLKEY, tls.clientKey().get());
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (java.io.IOException e) {
            throw new TlsSetupException("cannot set up TLS: " + e.getMessage());
        }
        char[] none = new char[0];
        try {
            store.setKeyEntry("client", key, none, chain.toArray(new X509Certificate[0]));
        } catch (GeneralSecurityException e) {
            throw new TlsSetupException(TlsConfig.PG_SSLKEY + "=" + tls.clientKey().get() + " does not belong to "
                    + TlsConfig.PG_SSLCERT + "=" + tls.clientCert().get() + ": give the key of that certificate");
        }
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, none);
        return factory.getKeyManagers();
    }

    private static TrustManager trustManager(TlsConfig tls) throws TlsSetupException, GeneralSecurityException {
        if (!tls.verifiesChain()) {
            return new EncryptionOnly();
        }
        Path file = tls.rootCert().orElseThrow();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (java.io.IOException e) {
            throw new TlsSetupException("cannot set up TLS: " + e.getMessage());
        }
        int i = 0;
        for (X509Certificate c : PemFiles.certificates(TlsConfig.PG_SSLROOTCERT, file)) {
            store.setCertificateEntry("ca" + i++, c);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        for (TrustManager m : factory.getTrustManagers()) {
            if (m instanceof X509ExtendedTrustManager) {
                return m;
            }
        }
        throw new TlsSetupException("cannot set up TLS: the JDK has no PKIX trust manager");
    }

    /** {@code prefer}/{@code require} without a root certificate: encryption without authentication, as libpq. */
    private static final class EncryptionOnly extends X509ExtendedTrustManager {
        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            throw new UnsupportedOperationException("client side only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            throw new UnsupportedOperationException("client side only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            throw new UnsupportedOperationException("client side only");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
