package io.pgbackup.core.testing;

import io.pgbackup.core.internal.storage.AtomicFiles;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real OpenSSH {@code sshd} for tests: started as the current (unprivileged) user on a free port
 * of 127.0.0.1, with its own host key, and one client key authorised, all in a directory the test
 * owns. It can only log in the user it runs as, which is what tests need: a "remote" directory on
 * this machine, reached over a real SSH connection by real rsync.
 */
public final class SshServer implements AutoCloseable {
    public static final Path SSHD = Path.of("/usr/sbin/sshd");

    private final Path dir;
    private final int port;
    private Process process;

    private SshServer(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Whether sshd, ssh, ssh-keygen and rsync are installed (tests skip cleanly otherwise). */
    public static boolean available() {
        return Files.isExecutable(SSHD) && onPath("ssh") && onPath("ssh-keygen") && onPath("rsync");
    }

    private static boolean onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }

    /** Generates keys and configuration in {@code dir} and starts sshd. */
    public static SshServer start(Path dir) throws IOException {
        Files.createDirectories(dir);
        PgCluster.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("host_key").toString()), Duration.ofSeconds(30));
        PgCluster.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("client_key").toString()), Duration.ofSeconds(30));
        Files.copy(dir.resolve("client_key.pub"), dir.resolve("authorized_keys"));
        SshServer server = new SshServer(dir, PgCluster.freePort());
        Files.writeString(dir.resolve("known_hosts"), "[127.0.0.1]:" + server.port + " " + Files.readString(dir.resolve("host_key.pub")));
        Files.writeString(dir.resolve("sshd_config"), String.join("\n",
                "Port " + server.port,
                "ListenAddress 127.0.0.1",
                "HostKey " + dir.resolve("host_key"),
                "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "PidFile " + dir.resolve("sshd.pid"),
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "LogLevel ERROR",
                ""));
        server.start();
        return server;
    }

    /** (Re)starts sshd on the same port with the same keys. */
    public synchronized void start() throws IOException {
        if (process != null && process.isAlive()) {
            return;
        }
        process = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", dir.resolve("sshd_config").toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("sshd.log").toFile()))
                .start();
        try {
            PgCluster.await(Duration.ofSeconds(20), "sshd to listen on port " + port, () -> {
                if (!process.isAlive()) {
                    throw new IOException("sshd exited " + process.exitValue() + ": " + Files.readString(dir.resolve("sshd.log")));
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                    return true;
                } catch (IOException notYet) {
                    return false;
                }
            });
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    /** Stops sshd; the port stays reserved in the sense that nothing of ours listens there. */
    public synchronized void stop() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    public int port() {
        return port;
    }

    public String host() {
        return "127.0.0.1";
    }

    /** The user sshd runs as: the only one it can log in. */
    public String user() {
        return System.getProperty("user.name");
    }

    /** The client side: {@code PG_BACKUP_SSH_COMMAND} for this server (key, known host, nothing else). */
    public String sshCommand() {
        return "ssh -i " + dir.resolve("client_key") + " -o IdentitiesOnly=yes -o UserKnownHostsFile="
                + dir.resolve("known_hosts") + " -o StrictHostKeyChecking=yes -o LogLevel=ERROR";
    }

    @Override
    public void close() {
        stop();
    }

    /**
     * One sshd shared by a test class, in a private temporary directory:
     * {@code @RegisterExtension static final SshServer.PerClass ssh = new SshServer.PerClass();}.
     * The class is skipped, not failed, where sshd, ssh, ssh-keygen or rsync is missing.
     */
    public static final class PerClass implements BeforeAllCallback, AfterAllCallback {
        private Path dir;
        private SshServer server;

        @Override
        public void beforeAll(ExtensionContext context) throws IOException {
            Assumptions.assumeTrue(available(), "sshd, ssh, ssh-keygen or rsync is not installed");
            dir = PgCluster.privateTempDir("pgbackup-sshd-");
            server = start(dir.resolve("sshd"));
        }

        @Override
        public void afterAll(ExtensionContext context) throws IOException {
            if (server != null) {
                server.close();
            }
            if (dir != null) {
                AtomicFiles.deleteTree(dir);
            }
        }

        /** The running server, e.g. to stop and start it again. */
        public SshServer server() {
            return server;
        }

        public int port() {
            return server.port();
        }

        public String host() {
            return server.host();
        }

        public String user() {
            return server.user();
        }

        public String sshCommand() {
            return server.sshCommand();
        }
    }
}
