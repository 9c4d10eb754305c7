package io.pgbackup.cli;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.demo.PitrDemo;
import io.pgbackup.core.storage.s3.S3Settings;

import java.lang.reflect.InvocationTargetException;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The bucket of {@code pgbackup demo --s3}, served in-process by s3proxy from
 * {@code pgbackup-demo-s3.jar} beside pgbackup.jar (the build puts it there). That jar is loaded in
 * a class loader of its own, so the production jar carries no test server (s3proxy, Jetty,
 * jclouds) and the server's libraries meet none of pgbackup's; only JDK types cross.
 */
final class DemoS3Server implements AutoCloseable {
    static final String BUCKET = "pgbackup-demo";
    static final String JAR = "pgbackup-demo-s3.jar";
    private static final String SERVER_CLASS = "io.pgbackup.demo.s3.DemoS3Server";

    private final URLClassLoader loader;
    private final AutoCloseable server;
    private final Map<String, String> info;

    private DemoS3Server(URLClassLoader loader, AutoCloseable server, Map<String, String> info) {
        this.loader = loader;
        this.server = server;
        this.info = info;
    }

    /** The server's jar, beside the one holding this class; refused in one line when it is not there. */
    static Path jar() {
        Path here;
        try {
            here = Path.of(DemoS3Server.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
        } catch (Exception e) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "demo --s3: cannot tell where pgbackup.jar is, to find " + JAR);
        }
        Path jar = here.getParent() == null ? Path.of(JAR) : here.getParent().resolve(JAR);
        if (!Files.isRegularFile(jar)) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "demo --s3 needs its S3 server " + jar
                    + ", which is missing (it is not part of pgbackup.jar): build it with 'mvn -DskipTests package'"
                    + " in the pgbackup source tree, or run 'bin/pgbackup demo --s3', which does");
        }
        return jar;
    }

    /** Starts a server from {@code jar} keeping its objects under {@code dir}. */
    @SuppressWarnings("unchecked")
    static DemoS3Server start(Path jar, Path dir) {
        URLClassLoader loader = null;
        try {
            loader = new URLClassLoader("pgbackup-demo-s3", new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
            Object server = Class.forName(SERVER_CLASS, true, loader).getMethod("start", Path.class, String.class)
                    .invoke(null, dir, BUCKET);
            return new DemoS3Server(loader, (AutoCloseable) server, Map.copyOf(((Supplier<Map<String, String>>) server).get()));
        } catch (InvocationTargetException e) {
            closeQuietly(loader);
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot start the demo's S3 server in " + dir + ": " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException | ClassCastException | java.io.IOException e) {
            closeQuietly(loader);
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, jar + " is not the demo's S3 server (" + e
                    + "): rebuild it with 'mvn -DskipTests package' in the pgbackup source tree", e);
        }
    }

    /** The bucket as the demo uses it: its settings, and the credentials for its processes' environment. */
    PitrDemo.Bucket bucket() {
        return new PitrDemo.Bucket(S3Settings.compatible(URI.create(info.get("endpoint")), BUCKET, "demo", "us-east-1"),
                Map.of("AWS_ACCESS_KEY_ID", info.get("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY", info.get("AWS_SECRET_ACCESS_KEY")));
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            // a throwaway server: nothing to do about it
        }
    }

    @Override
    public void close() {
        closeQuietly(server);
        closeQuietly(loader);
    }
}
