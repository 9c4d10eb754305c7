package io.pgbackup.s3.testing;

import io.pgbackup.core.storage.s3.S3Settings;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.s3.S3Storage;

import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;

/**
 * A real S3 server over HTTP for tests: s3proxy on 127.0.0.1 on a free port, its objects in a
 * directory (s3proxy's filesystem-nio2 backend), one bucket, and fixed test-only credentials
 * (AWS signature v4, as the SDK signs). {@link #stop()} and {@link #start()} take it down and
 * bring it back on the same port with the same objects, for failure tests.
 *
 * <pre>
 * try (S3Server server = S3Server.start(tempDir)) {
 *     S3Storage storage = server.storage("repo");
 * }
 * </pre>
 */
public final class S3Server implements AutoCloseable {
    public static final String BUCKET = "pgbackup-test";
    public static final String REGION = "us-east-1";
    // Test-only credentials, known to this fixture's server and nothing else.
    private static final String ACCESS_KEY = "pgbackup-test-access-key";
    private static final String SECRET_KEY = "pgbackup-test-secret-key";

    private final BlobStoreContext context;
    private final int port;
    private final BlobStore counted;
    private final java.util.List<Request> requests = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    private S3Proxy proxy;

    /**
     * One call s3proxy made on its backend while answering a request: {@code list} is one page of
     * a ListObjects(V2) (its {@code name} the prefix asked for), {@code blobMetadata} a HEAD,
     * {@code getBlob} a GET, {@code putBlob} a PUT.
     */
    public record Request(String operation, String name) {
    }

    private S3Server(Path dir, int port) {
        Properties properties = new Properties();
        String provider = "filesystem-nio2";
        if (dir == null) {
            provider = "transient"; // jclouds' in-memory blob store
        } else {
            properties.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
        }
        this.context = ContextBuilder.newBuilder(provider)
                .credentials("unused", "unused")
                .overrides(properties)
                .buildView(BlobStoreContext.class);
        this.port = port;
        context.getBlobStore().createContainerInLocation(null, BUCKET);
        this.counted = recording(context.getBlobStore());
    }

    /** The backend as s3proxy sees it, noting each call it makes (what the server was asked) in {@link #requests()}. */
    private BlobStore recording(BlobStore real) {
        return (BlobStore) java.lang.reflect.Proxy.newProxyInstance(BlobStore.class.getClassLoader(), new Class<?>[] {BlobStore.class},
                (self, method, args) -> {
                    String name = null;
                    if (args != null && args.length > 1 && args[1] instanceof org.jclouds.blobstore.options.ListContainerOptions o) {
                        name = o.getPrefix() == null ? "" : o.getPrefix();
                    } else if (args != null && args.length > 1 && args[1] instanceof String key) {
                        name = key;
                    } else if (args != null && args.length > 1 && args[1] instanceof org.jclouds.blobstore.domain.Blob blob) {
                        name = blob.getMetadata().getName();
                    }
                    requests.add(new Request(method.getName(), name));
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** The backend calls made since the last {@link #clearRequests()}, in order. */
    public java.util.List<Request> requests() {
        synchronized (requests) {
            return java.util.List.copyOf(requests);
        }
    }

    /** Listing pages (ListObjects requests) since the last {@link #clearRequests()}. */
    public java.util.List<Request> listRequests() {
        return requests().stream().filter(r -> r.operation().equals("list") && r.name() != null).toList();
    }

    public void clearRequests() {
        requests.clear();
    }

    /** Starts a server keeping its objects under {@code dir} (a test's temporary directory). */
    public static S3Server start(Path dir) throws Exception {
        S3Server server = new S3Server(dir, freePort());
        try {
            server.start();
        } catch (Exception e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * Starts a server keeping its objects in memory (jclouds' transient store). For listing
     * benchmarks: the filesystem backend reads every file's attributes for each 1,000-key page, so a
     * pass over N keys costs it N²/1,000, which would measure s3proxy rather than pgbackup.
     */
    public static S3Server startInMemory() throws Exception {
        S3Server server = new S3Server(null, freePort());
        try {
            server.start();
        } catch (Exception e) {
            server.close();
            throw e;
        }
        return server;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    /** (Re)starts the server on its port; waits until it answers. */
    public synchronized void start() throws Exception {
        if (proxy != null) {
            return;
        }
        S3Proxy started = S3Proxy.builder()
                .blobStore(counted)
                .endpoint(endpoint())
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                // The SDK always sends x-amz-checksum-crc32 where the API requires a checksum
                // (DeleteObjects), beside Content-MD5; s3proxy 3.0.0 refuses headers it does not know.
                .ignoreUnknownHeaders(true)
                .build();
        started.start();
        PgCluster.await(Duration.ofSeconds(30), "s3proxy to start on " + endpoint(),
                () -> started.getState().equals("STARTED"));
        proxy = started;
    }

    /** Stops the server: connections are refused until {@link #start()}. Objects stay. */
    public synchronized void stop() throws Exception {
        if (proxy != null) {
            proxy.stop();
            proxy = null;
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** The credentials this server accepts. */
    public AwsCredentialsProvider credentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
    }

    /** This fixture's test-only access key id and secret, for a separate process (the bench, the CLI) to sign with. */
    public java.util.Map<String, String> credentialsEnvironment() {
        return java.util.Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    }

    /** Credentials this server refuses: a known access key with the wrong secret. */
    public AwsCredentialsProvider wrongCredentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, "not-the-secret"));
    }

    /** Settings for a repository under {@code prefix} in this server's bucket. */
    public S3Settings settings(String prefix) {
        return S3Settings.compatible(endpoint(), BUCKET, prefix, REGION);
    }

    /** A storage on this server, with its credentials; the caller closes it. */
    public S3Storage storage(String prefix) {
        return new S3Storage(settings(prefix), credentials());
    }

    /** The server's backend, to plant objects S3Storage would never write (hostile keys). */
    public BlobStore blobStore() {
        return context.getBlobStore();
    }

    /**
     * Keys of the multipart uploads started and neither completed nor aborted, as the server's
     * backend holds them (s3proxy answers ListMultipartUploads with 501 Not Implemented).
     */
    public java.util.List<String> pendingUploads() {
        return context.getBlobStore().listMultipartUploads(BUCKET).stream()
                .map(org.jclouds.blobstore.domain.MultipartUpload::blobName).sorted().toList();
    }

    @Override
    public void close() throws Exception {
        try {
            stop();
        } finally {
            context.close();
        }
    }
}
