package io.pgbackup.core.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * Certificates made by the {@code openssl} CLI for TLS tests: a CA, a server certificate for
 * {@code IP:127.0.0.1} and {@code DNS:localhost}, a server certificate naming another host only,
 * a client certificate for {@link PgCluster#SUPERUSER}, and a second (rogue) CA that signed none
 * of them. Keys are PEM, mode 0600, owned by the user running the tests (the server's user).
 */
public record TestCertificates(Path dir, Path caCert, Path serverCert, Path serverKey, Path otherNameCert,
                               Path otherNameKey, Path clientCert, Path clientKey, Path rogueCaCert) {
    private static final Duration LIMIT = Duration.ofMinutes(1);

    public static TestCertificates generate(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path caKey = dir.resolve("ca.key");
        Path caCert = dir.resolve("ca.crt");
        selfSigned(dir, caKey, caCert, "pgbackup test CA");
        Path rogueKey = dir.resolve("rogue-ca.key");
        Path rogueCert = dir.resolve("rogue-ca.crt");
        selfSigned(dir, rogueKey, rogueCert, "pgbackup rogue CA");
        Path serverKey = dir.resolve("server.key");
        Path serverCert = dir.resolve("server.crt");
        signed(dir, "server", "127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
                caCert, caKey, serverKey, serverCert);
        Path otherKey = dir.resolve("other.key");
        Path otherCert = dir.resolve("other.crt");
        signed(dir, "other", "db.invalid", "subjectAltName=DNS:db.invalid\nextendedKeyUsage=serverAuth",
                caCert, caKey, otherKey, otherCert);
        Path clientKey = dir.resolve("client.key");
        Path clientCert = dir.resolve("client.crt");
        signed(dir, "client", PgCluster.SUPERUSER, "extendedKeyUsage=clientAuth", caCert, caKey, clientKey, clientCert);
        return new TestCertificates(dir, caCert, serverCert, serverKey, otherCert, otherKey, clientCert, clientKey,
                rogueCert);
    }

    private static void selfSigned(Path dir, Path key, Path cert, String cn) throws IOException {
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out",
                cert.toString(), "-days", "3", "-subj", "/CN=" + cn,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        private600(key);
    }

    private static void signed(Path dir, String name, String cn, String extensions, Path caCert, Path caKey,
                               Path key, Path cert) throws IOException {
        Path csr = dir.resolve(name + ".csr");
        Path ext = dir.resolve(name + ".ext");
        Files.writeString(ext, extensions + "\n");
        openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out", csr.toString(),
                "-subj", "/CN=" + cn);
        openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", caCert.toString(), "-CAkey", caKey.toString(),
                "-CAcreateserial", "-out", cert.toString(), "-days", "3", "-extfile", ext.toString());
        private600(key);
    }

    private static void private600(Path key) throws IOException {
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    }

    private static void openssl(Path dir, String... args) throws IOException {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        PgCluster.run(command, LIMIT);
    }

    /**
     * Turns on TLS in {@code cluster} with {@code cert}/{@code key} (the CA as ssl_ca_file, for client
     * certificates) and replaces its pg_hba.conf by {@code hba} (e.g. hostssl lines only); restarts it.
     */
    public void install(PgCluster cluster, Path cert, Path key, String hba) throws IOException {
        Path data = cluster.dataDir();
        Files.copy(cert, data.resolve("server.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(key, data.resolve("server.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        private600(data.resolve("server.key"));
        Files.copy(caCert, data.resolve("root.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        cluster.appendSettings(java.util.Map.of("ssl", "on", "ssl_cert_file", "'server.crt'",
                "ssl_key_file", "'server.key'", "ssl_ca_file", "'root.crt'", "log_connections", "on"));
        Files.writeString(data.resolve("pg_hba.conf"), "# pgbackup test fixture\nlocal all all trust\n" + hba + "\n");
        cluster.restart();
    }

    /** pg_hba.conf lines admitting the superuser over TCP only with TLS, by {@code method}. */
    public static String hostsslOnly(String method) {
        return "hostssl all all 127.0.0.1/32 " + method + "\nhostssl replication all 127.0.0.1/32 " + method;
    }
}
