package io.pgbackup.demo.s3;

import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The bucket of {@code pgbackup demo --s3}: s3proxy on 127.0.0.1 on a free port, its objects in a
 * directory (s3proxy's filesystem backend), signed requests only, with an access key and secret
 * made up for this run (held in memory and handed to the demo's clusters' environment, never
 * written). A real S3 server over HTTP, driven through the same AWS SDK path as any bucket.
 *
 * <p>Kept out of pgbackup.jar (s3proxy brings Jetty, jclouds and Guava): the CLI loads this jar in
 * a class loader of its own, so only JDK types cross: {@link #start(Path, String)} by reflection,
 * then {@link AutoCloseable} and {@link Supplier} of {@code endpoint}, {@code AWS_ACCESS_KEY_ID}
 * and {@code AWS_SECRET_ACCESS_KEY}.
 */
public final class DemoS3Server implements AutoCloseable, Supplier<Map<String, String>> {
    private final BlobStoreContext context;
    private final S3Proxy proxy;
    private final URI endpoint;
    private final String accessKey = "demo-" + UUID.randomUUID();
    private final String secretKey = UUID.randomUUID().toString();

    private DemoS3Server(Path dir, String bucket) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
        context = ContextBuilder.newBuilder("filesystem-nio2").credentials("unused", "unused").overrides(properties)
                .buildView(BlobStoreContext.class);
        S3Proxy started = null;
        try {
            context.getBlobStore().createContainerInLocation(null, bucket);
            endpoint = URI.create("http://127.0.0.1:" + freePort());
            started = S3Proxy.builder().blobStore(context.getBlobStore()).endpoint(endpoint)
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                    // The SDK's checksum header where the API requires one (DeleteObjects): s3proxy refuses unknown headers otherwise.
                    .ignoreUnknownHeaders(true)
                    .build();
            started.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!started.getState().equals("STARTED")) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the demo's S3 server did not start on " + endpoint);
                }
                Thread.sleep(20);
            }
        } catch (Exception | Error e) {
            if (started != null) {
                started.stop();
            }
            context.close();
            throw e;
        }
        proxy = started;
    }

    /** Starts a server holding {@code bucket}, its objects under {@code dir}. */
    public static DemoS3Server start(Path dir, String bucket) throws Exception {
        // jclouds finds its providers, and Jetty's threads their classes, through the context loader: this jar's.
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(DemoS3Server.class.getClassLoader());
        try {
            return new DemoS3Server(dir, bucket);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Where the server is, and the credentials for the demo's processes' environment. */
    @Override
    public Map<String, String> get() {
        return Map.of("endpoint", endpoint.toString(), "AWS_ACCESS_KEY_ID", accessKey, "AWS_SECRET_ACCESS_KEY", secretKey);
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            // stopping a throwaway server: nothing to do about it
        } finally {
            context.close();
        }
    }
}
