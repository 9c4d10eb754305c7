package io.pgbackup.core.internal.postgres.tls;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Properties;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/** pgjdbc's {@code sslfactory}: the JSSE context of {@link TlsContexts}, with the host check of verify-full. */
public final class PgSslSocketFactory extends SSLSocketFactory {
    private final Properties properties;
    private final SSLSocketFactory delegate;

    public PgSslSocketFactory(Properties properties) throws TlsSetupException {
        this.properties = properties;
        this.delegate = TlsContexts.context(JdbcTls.tlsConfig(properties)).getSocketFactory();
    }

    private Socket configure(Socket s) {
        SSLSocket ssl = (SSLSocket) s;
        ssl.setSSLParameters(TlsContexts.parameters(ssl.getSSLParameters(), JdbcTls.tlsConfig(properties)));
        JdbcTls.mark(properties, true);
        return ssl;
    }

    @Override
    public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
        return configure(delegate.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket(Socket s, InputStream consumed, boolean autoClose) throws IOException {
        return configure(delegate.createSocket(s, consumed, autoClose));
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return delegate.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return configure(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return configure(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return configure(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return configure(delegate.createSocket(address, port, localAddress, localPort));
    }
}
