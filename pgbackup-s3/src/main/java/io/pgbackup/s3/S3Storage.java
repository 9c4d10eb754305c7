package io.pgbackup.s3;

import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.storage.s3.S3Settings;
import io.pgbackup.core.storage.Storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.LegacyMd5Plugin;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link Storage} in an S3 bucket (AWS, or an S3-compatible server through
 * {@link S3Settings#endpoint()}): the object under {@code key} is {@code <prefix>/<key>}.
 *
 * <ul>
 *   <li>Objects appear only when complete: small ones are one PutObject, larger ones a multipart
 *       upload completed at {@link ObjectWriter#commit()} and aborted when the writer is closed
 *       without it ({@link S3ObjectWriter}).</li>
 *   <li>{@link WriteMode#CREATE_NEW} is a conditional write ({@code If-None-Match: *}), after a
 *       HEAD that catches servers ignoring the condition.</li>
 *   <li>The lease is the object {@code <prefix>/.pgbackup.lease} ({@link S3Lease}), taken and
 *       renewed with conditional writes, and expiring when its holder stops renewing it.</li>
 *   <li>Credentials come only from the SDK's default chain (environment, profile, instance role)
 *       unless an embedder passes a provider; they are never stored here, logged or put in a
 *       message. Every SDK failure becomes an {@link IOException} of one line ({@link S3Errors}).</li>
 * </ul>
 *
 * <p>Close it to release its HTTP connections and threads.
 */
public final class S3Storage implements Storage, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(S3Storage.class);
    static final String LEASE_KEY = ".pgbackup.lease";
    static final Duration DEFAULT_LEASE_TTL = Duration.ofMinutes(10);
    /** Keys per DeleteObjects request (the API's limit). */
    private static final int PAGE = 1000;
    private static final AtomicInteger POOL_NUMBER = new AtomicInteger();

    private final S3Settings settings;
    private final S3Client s3;
    private final S3Errors errors;
    private final ExecutorService uploads;
    private final Duration leaseTtl;
    private final Clock clock;
    /** The lease this storage took and has not released: destructive calls check it first. */
    private final S3Lease.Held held = new S3Lease.Held();
    private volatile boolean conditionalWritesRefused;

    /** Credentials from the SDK's default chain. */
    public S3Storage(S3Settings settings) {
        this(settings, null);
    }

    /** Credentials from {@code credentials} (for embedders and tests); {@code null} for the SDK's default chain. */
    public S3Storage(S3Settings settings, AwsCredentialsProvider credentials) {
        this(settings, credentials, DEFAULT_LEASE_TTL, Clock.systemUTC());
    }

    S3Storage(S3Settings settings, AwsCredentialsProvider credentials, Duration leaseTtl, Clock clock) {
        this.settings = Objects.requireNonNull(settings);
        this.leaseTtl = leaseTtl;
        this.clock = clock;
        this.errors = new S3Errors(settings.endpoint().map(URI::toString)
                .orElse("s3." + settings.region() + ".amazonaws.com"));
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(settings.region()))
                .credentialsProvider(credentials != null ? credentials : DefaultCredentialsProvider.builder().build())
                // The JDK's HttpURLConnection: no Netty or Apache client in the CLI's jar.
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(Duration.ofMinutes(2))
                        .build())
                .forcePathStyle(settings.pathStyle());
        settings.endpoint().ifPresent(endpoint -> builder.endpointOverride(endpoint)
                // The SDK's default CRC trailers (aws-chunked bodies) are refused by several
                // S3-compatible servers; send and check checksums only where the API requires them.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                // Where the API demands a checksum (DeleteObjects), Content-MD5 as every server knows it,
                // not the newer x-amz-checksum-crc32 header that s3proxy and older MinIO/Ceph reject.
                .addPlugin(LegacyMd5Plugin.create()));
        this.s3 = builder.build();
        int pool = POOL_NUMBER.incrementAndGet();
        // Shared by this storage's writers; each keeps at most PartSizes.maxInFlight parts queued.
        this.uploads = Pools.fixed("pgbackup-s3-" + pool + "-upload", 2 * PartSizes.MAX_CONCURRENT_UPLOADS).executor();
    }

    public S3Settings settings() {
        return settings;
    }

    @Override
    public String location() {
        return settings.location();
    }

    // ---- keys ----

    String fullKey(String key) {
        S3Keys.requireKey(key);
        String full = settings.prefix().isEmpty() ? key : settings.prefix() + "/" + key;
        if (S3Keys.utf8Length(full) > S3Keys.MAX_KEY_BYTES) {
            throw new IllegalArgumentException("object key too long (over " + S3Keys.MAX_KEY_BYTES + " bytes): '" + key + "'");
        }
        return full;
    }

    String rootPrefix() {
        return settings.prefix().isEmpty() ? "" : settings.prefix() + "/";
    }

    /** {@code s3://bucket/fullKey}, for messages. */
    String url(String fullKey) {
        return "s3://" + settings.bucket() + "/" + fullKey;
    }

    // ---- calls ----

    S3Errors errors() {
        return errors;
    }

    /** An SDK call. */
    @FunctionalInterface
    interface SdkCall<T> {
        T run();
    }

    <T> T call(String fullKey, SdkCall<T> call) throws IOException {
        try {
            return call.run();
        } catch (SdkException e) {
            throw errors.toIOException(e, url(fullKey));
        }
    }

    /** A conditional write's outcome when the condition is sent. */
    @FunctionalInterface
    interface ConditionalCall<T> {
        T run(boolean withCondition);
    }

    /**
     * Runs a write that carries a condition ({@code If-None-Match}/{@code If-Match}) when
     * {@code conditional}: 412 (and 409, a concurrent conditional write of the same key that S3
     * resolves for the other writer) become {@link FileAlreadyExistsException}. A server that
     * refuses conditions outright (501) gets the write without them, here and from now on,
     * after one warning; the caller's HEAD is then all that guards the key.
     */
    <T> T callConditional(String fullKey, boolean conditional, ConditionalCall<T> call) throws IOException {
        boolean withCondition = conditional && !conditionalWritesRefused;
        try {
            return call.run(withCondition);
        } catch (SdkException e) {
            int status = S3Errors.status(e);
            if (withCondition && (status == 412 || status == 409)) {
                FileAlreadyExistsException exists = new FileAlreadyExistsException(url(fullKey));
                exists.initCause(e);
                throw exists;
            }
            if (withCondition && (status == 501 || S3Errors.errorCode(e).equals("NotImplemented"))) {
                conditionalWritesRefused = true;
                log.warn("{} refuses conditional writes (If-None-Match/If-Match): new objects and the lease are guarded by"
                        + " a check before the write only, which two concurrent writers can race", errors.endpoint());
                return callConditional(fullKey, false, call);
            }
            throw errors.toIOException(e, url(fullKey));
        }
    }

    boolean exists(String fullKey) throws IOException {
        return head(fullKey).isPresent();
    }

    private Optional<HeadObjectResponse> head(String fullKey) throws IOException {
        try {
            return Optional.of(s3.headObject(r -> r.bucket(settings.bucket()).key(fullKey)));
        } catch (SdkException e) {
            if (S3Errors.status(e) == 404 && !S3Errors.errorCode(e).equals("NoSuchBucket")) {
                return Optional.empty();
            }
            throw errors.toIOException(e, url(fullKey));
        }
    }

    S3Client client() {
        return s3;
    }

    String bucket() {
        return settings.bucket();
    }

    Clock clock() {
        return clock;
    }

    // ---- Storage ----

    @Override
    public List<StoredObject> list(String prefix) throws IOException {
        return S3Listing.objects(this, prefix);
    }

    @Override
    public Optional<StoredObject> stat(String key) throws IOException {
        return head(fullKey(key)).map(h -> new StoredObject(key, h.contentLength(), h.lastModified()));
    }

    @Override
    public InputStream open(String key) throws IOException {
        String full = fullKey(key);
        ResponseInputStream<GetObjectResponse> in = call(full, () -> s3.getObject(r -> r.bucket(settings.bucket()).key(full)));
        return new ObjectInputStream(in, url(full));
    }

    /** Maps the SDK's unchecked read failures, and abandons the connection when closed before the end. */
    private final class ObjectInputStream extends FilterInputStream {
        private final ResponseInputStream<GetObjectResponse> response;
        private final String url;
        private boolean ended;

        ObjectInputStream(ResponseInputStream<GetObjectResponse> response, String url) {
            super(response);
            this.response = response;
            this.url = url;
        }

        @Override
        public int read() throws IOException {
            try {
                int b = super.read();
                ended |= b < 0;
                return b;
            } catch (SdkException e) {
                throw errors.toIOException(e, url);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                int n = super.read(b, off, len);
                ended |= n < 0;
                return n;
            } catch (SdkException e) {
                throw errors.toIOException(e, url);
            }
        }

        @Override
        public void close() throws IOException {
            if (!ended) {
                // Otherwise closing would read the rest of a possibly huge object to reuse the connection.
                response.abort();
            }
            try {
                super.close();
            } catch (SdkException e) {
                throw errors.toIOException(e, url);
            }
        }
    }

    @Override
    public ObjectWriter create(String key, WriteMode mode) throws IOException {
        if (mode == WriteMode.REPLACE) {
            checkLease(); // an overwrite destroys what was there
        }
        return new S3ObjectWriter(this, s3, settings.bucket(), fullKey(key), Objects.requireNonNull(mode), uploads);
    }

    /**
     * Deletes an object. S3 does not say whether there was one, so a HEAD comes first: the answer
     * is whether the object existed just before.
     */
    @Override
    public boolean delete(String key) throws IOException {
        String full = fullKey(key);
        checkLease();
        boolean existed = exists(full);
        if (existed) {
            call(full, () -> s3.deleteObject(r -> r.bucket(settings.bucket()).key(full)));
        }
        return existed;
    }

    /**
     * Deletes many objects, 1,000 per request. Missing keys are not an error; returns how many
     * keys were asked for and not refused (S3 does not say which existed). The first key S3
     * refuses fails the call after the whole batch was tried.
     */
    public int deleteAll(Collection<String> keys) throws IOException {
        List<String> full = keys.stream().map(this::fullKey).toList();
        int deleted = 0;
        for (int start = 0; start < full.size(); start += PAGE) {
            checkLease();
            List<ObjectIdentifier> batch = full.subList(start, Math.min(full.size(), start + PAGE)).stream()
                    .map(k -> ObjectIdentifier.builder().key(k).build()).toList();
            DeleteObjectsResponse response = call(batch.get(0).key(), () -> s3.deleteObjects(r -> r.bucket(settings.bucket())
                    .delete(d -> d.objects(batch).quiet(true))));
            if (!response.errors().isEmpty()) {
                S3Error first = response.errors().get(0);
                throw new IOException("S3 refused to delete " + url(first.key()) + " (" + first.code() + ")"
                        + (response.errors().size() > 1 ? " and " + (response.errors().size() - 1) + " more" : "")
                        + (first.code().equals("AccessDenied") ? ": check the credentials and the bucket policy" : ""));
            }
            deleted += batch.size();
        }
        return deleted;
    }

    @Override
    public Lease acquireLease(String holder) throws IOException {
        return held.take(S3Lease.acquire(this, fullKey(LEASE_KEY), holder, leaseTtl));
    }

    void released(Lease lease) {
        held.released(lease);
    }

    /** Before a delete or an overwrite: see {@link S3Lease.Held#check}. */
    private void checkLease() throws IOException {
        held.check();
    }

    /** A multipart upload that was started and neither completed nor aborted. */
    public record PendingUpload(String key, String uploadId, Instant initiated) {
    }

    /** The multipart uploads under this storage's prefix that are neither completed nor aborted. */
    public List<PendingUpload> pendingUploads() throws IOException {
        return S3Listing.pendingUploads(this);
    }

    /**
     * Aborts the multipart uploads under the prefix started more than {@code olderThan} ago: those
     * of writers that crashed before committing or aborting, whose parts S3 keeps (and bills)
     * otherwise. Choose an age well above the longest backup. Returns how many were aborted.
     */
    public int cleanupIncompleteUploads(Duration olderThan) throws IOException {
        Instant cutoff = clock.instant().minus(olderThan);
        int aborted = 0;
        for (PendingUpload upload : pendingUploads()) {
            if (upload.initiated() != null && upload.initiated().isBefore(cutoff)) {
                call(upload.key(), () -> s3.abortMultipartUpload(r -> r.bucket(settings.bucket())
                        .key(upload.key()).uploadId(upload.uploadId())));
                log.info("aborted the incomplete upload of {} started {}", url(upload.key()), upload.initiated());
                aborted++;
            }
        }
        return aborted;
    }

    @Override
    public void close() {
        uploads.shutdownNow();
        s3.close();
    }

    @Override
    public String toString() {
        return location();
    }
}
