package io.pgbackup.core.internal.postgres.tls;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Properties;
import javax.net.SocketFactory;

/** pgjdbc's TCP socket factory: plain sockets, each marking its attempt "no TLS (yet)" for {@link PasswordPlugin}. */
public final class TrackingSocketFactory extends SocketFactory {
    private final Properties properties;

    public TrackingSocketFactory(Properties properties) {
        this.properties = properties;
    }

    private Socket plain(Socket s) {
        JdbcTls.mark(properties, false);
        return s;
    }

    @Override
    public Socket createSocket() {
        return plain(new Socket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return plain(new Socket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return plain(new Socket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return plain(new Socket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return plain(new Socket(address, port, localAddress, localPort));
    }
}
