package io.pgbackup.demo.s3;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.demo.PitrDemo;
import io.pgbackup.core.storage.s3.S3Settings;
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

/**
 * The bucket of {@code pgbackup demo --s3}: s3proxy on 127.0.0.1 on a free port, its objects in a
 * directory (s3proxy's filesystem backend), signed requests only, with an access key and secret
 * made up for this run (held in memory and handed to the demo's clusters' environment, never
 * written). A real S3 server over HTTP, driven through the same AWS SDK path as any bucket.
 */
final class DemoS3Server implements AutoCloseable {
    static final String BUCKET = "pgbackup-demo";

    private final BlobStoreContext context;
    private final S3Proxy proxy;
    private final URI endpoint;
    private final String accessKey = "demo-" + UUID.randomUUID();
    private final String secretKey = UUID.randomUUID().toString();

    private DemoS3Server(Path dir) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
        context = ContextBuilder.newBuilder("filesystem-nio2").credentials("unused", "unused").overrides(properties)
                .buildView(BlobStoreContext.class);
        S3Proxy started = null;
        try {
            context.getBlobStore().createContainerInLocation(null, BUCKET);
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
                    throw new PgBackupException(ErrorCode.IO_FAILED, "the demo's S3 server did not start on " + endpoint);
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

    /** Starts a server keeping its objects under {@code dir}. */
    static DemoS3Server start(Path dir) {
        try {
            return new DemoS3Server(dir);
        } catch (PgBackupException e) {
            throw e;
        } catch (Exception e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot start the demo's S3 server in " + dir + ": " + e, e);
        }
    }

    /** The bucket as the demo uses it: its settings, and the credentials for its processes' environment. */
    PitrDemo.Bucket bucket() {
        return new PitrDemo.Bucket(S3Settings.compatible(endpoint, BUCKET, "demo", "us-east-1"),
                Map.of("AWS_ACCESS_KEY_ID", accessKey, "AWS_SECRET_ACCESS_KEY", secretKey));
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
