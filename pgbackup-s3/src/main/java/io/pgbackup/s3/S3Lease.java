package io.pgbackup.s3;

import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.storage.Storage.Lease;
import io.pgbackup.core.storage.Storage.LeaseHeldException;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.internal.storage.RepositoryJson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The repository's lease in a bucket: the object {@code <prefix>/.pgbackup.lease} holding who
 * took it, a random owner token and when it expires. It is created with {@code If-None-Match: *},
 * renewed (a tenth of its lifetime apart) and taken over once expired with {@code If-Match} on
 * the ETag read, so of two contenders exactly one write succeeds; it is read back after writing,
 * which catches servers that ignore those conditions except in a window of a few milliseconds.
 * A holder that dies stops renewing, and the lease is free once it expires.
 *
 * <p>Expiry is judged on the server's clock where possible (the object's Last-Modified plus its
 * lifetime, against the response's Date), so hosts with skewed clocks agree on it.
 */
final class S3Lease implements Lease {
    private static final Logger log = LoggerFactory.getLogger(S3Lease.class);
    /** The lease object is a repository JSON file like the others: the same mapper settings. */
    private static final ObjectMapper JSON = RepositoryJson.newMapper();
    private static final int ATTEMPTS = 3;

    /** The lease object's content. */
    record LeaseRecord(String holder, String owner, Instant expiresAt, long ttlSeconds) {
    }

    private record Current(LeaseRecord lease, String etag, boolean expired) {
    }

    private final S3Storage storage;
    private final String fullKey;
    private final String owner;
    private final LeaseRecord granted;
    private final Duration ttl;
    private final ScheduledExecutorService renewer;
    private volatile boolean lost;
    private volatile String lostTo = "";
    private boolean closed;

    private S3Lease(S3Storage storage, String fullKey, LeaseRecord granted, Duration ttl) {
        this.storage = storage;
        this.fullKey = fullKey;
        this.owner = granted.owner();
        this.granted = granted;
        this.ttl = ttl;
        this.renewer = Pools.scheduledSingle("pgbackup-s3-lease");
        long every = Math.max(1, ttl.toMillis() / 10);
        renewer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    }

    static Lease acquire(S3Storage storage, String fullKey, String holder, Duration ttl) throws IOException {
        String owner = UUID.randomUUID().toString();
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Optional<Current> current = read(storage, fullKey);
            LeaseRecord mine = record(storage, holder, owner, ttl);
            try {
                if (current.isEmpty()) {
                    put(storage, fullKey, mine, null);
                } else if (!current.get().expired()) {
                    throw new LeaseHeldException(current.get().lease().holder());
                } else {
                    log.warn("taking over the expired lease on {} of {}", storage.location(), current.get().lease().holder());
                    put(storage, fullKey, mine, current.get().etag());
                }
            } catch (FileAlreadyExistsException e) {
                continue; // another process wrote it first: look at what it wrote
            }
            Optional<Current> after = read(storage, fullKey);
            if (after.isPresent() && owner.equals(after.get().lease().owner())) {
                return new S3Lease(storage, fullKey, mine, ttl);
            }
            if (after.isPresent()) {
                // Only on a server ignoring the conditions: the other writer came last and holds it.
                throw new LeaseHeldException(after.get().lease().holder());
            }
        }
        throw new LeaseHeldException(read(storage, fullKey).map(c -> c.lease().holder()).orElse(""));
    }

    private static LeaseRecord record(S3Storage storage, String holder, String owner, Duration ttl) {
        return new LeaseRecord(holder, owner, storage.clock().instant().plus(ttl), Math.max(1, ttl.toSeconds()));
    }

    /** Writes the lease: new ({@code ifMatch} null), or replacing the version with that ETag. Returns its ETag. */
    private static String put(S3Storage storage, String fullKey, LeaseRecord lease, String ifMatch) throws IOException {
        byte[] body = JSON.writeValueAsBytes(lease);
        return storage.callConditional(fullKey, true, conditional -> storage.client().putObject(r -> {
            r.bucket(storage.bucket()).key(fullKey).contentType("application/json");
            if (conditional && ifMatch == null) {
                r.ifNoneMatch("*");
            } else if (conditional) {
                r.ifMatch(ifMatch);
            }
        }, RequestBody.fromBytes(body)).eTag());
    }

    private static Optional<Current> read(S3Storage storage, String fullKey) throws IOException {
        ResponseBytes<GetObjectResponse> bytes;
        try {
            bytes = storage.client().getObjectAsBytes(r -> r.bucket(storage.bucket()).key(fullKey));
        } catch (SdkException e) {
            if (S3Errors.status(e) == 404 && !S3Errors.errorCode(e).equals("NoSuchBucket")) {
                return Optional.empty();
            }
            throw storage.errors().toIOException(e, storage.url(fullKey));
        }
        GetObjectResponse response = bytes.response();
        LeaseRecord lease;
        try {
            lease = JSON.readValue(bytes.asByteArray(), LeaseRecord.class);
        } catch (IOException e) {
            // Unreadable: treat as a lease of the default lifetime by an unknown holder, which expires.
            lease = new LeaseRecord("unreadable lease object", "", null, S3Storage.DEFAULT_LEASE_TTL.toSeconds());
        }
        Optional<Instant> serverNow = response.sdkHttpResponse().firstMatchingHeader("Date").flatMap(S3Lease::httpDate);
        boolean expired;
        if (serverNow.isPresent() && response.lastModified() != null && lease.ttlSeconds() > 0) {
            expired = serverNow.get().isAfter(response.lastModified().plusSeconds(lease.ttlSeconds()));
        } else {
            expired = lease.expiresAt() == null || storage.clock().instant().isAfter(lease.expiresAt());
        }
        return Optional.of(new Current(lease, response.eTag(), expired));
    }

    private static Optional<Instant> httpDate(String value) {
        try {
            return Optional.of(ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private void renew() {
        if (lost) {
            return;
        }
        try {
            Optional<Current> current = read(storage, fullKey);
            if (current.isEmpty() || !owner.equals(current.get().lease().owner())) {
                lose(current.map(c -> c.lease().holder()).orElse("nobody"));
                return;
            }
            LeaseRecord renewed = record(storage, granted.holder(), owner, ttl);
            put(storage, fullKey, renewed, current.get().etag());
        } catch (FileAlreadyExistsException e) {
            lose("another process");
        } catch (IOException | RuntimeException e) {
            // The next attempt comes long before expiry; only a lasting failure loses the lease.
            log.warn("could not renew the lease on {}: {}", storage.location(), e.getMessage());
        }
    }

    private void lose(String by) {
        lostTo = by.startsWith("nobody yet") ? by : "now held by " + by;
        lost = true;
        log.error("lost the lease on {} ({}): it expired before it could be renewed", storage.location(), lostTo);
    }

    /**
     * Reads the lease object back: it must still carry this holder's token and not have expired.
     * Otherwise the lease counts as lost from now on, and this fails naming who holds it.
     */
    @Override
    public void check() throws IOException {
        if (!lost) {
            Optional<Current> current = read(storage, fullKey);
            if (current.isEmpty() || !owner.equals(current.get().lease().owner())) {
                lose(current.map(c -> c.lease().holder()).orElse("nobody"));
            } else if (current.get().expired()) {
                lose("nobody yet: it expired");
            }
        }
        if (lost) {
            throw new Storage.LeaseLostException("lost the lease on " + storage.location() + " (" + lostTo
                    + "): stopped before changing anything more there");
        }
    }

    /** Whether renewing found the lease taken by someone else (it had expired unrenewed). */
    boolean lost() {
        return lost;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        storage.released(this);
        renewer.shutdownNow();
        try {
            // A renewal in flight must not re-create the lease after the delete.
            renewer.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Optional<Current> current = read(storage, fullKey);
            if (current.isPresent() && owner.equals(current.get().lease().owner())) {
                storage.callConditional(fullKey, true, conditional -> storage.client().deleteObject(r -> {
                    r.bucket(storage.bucket()).key(fullKey);
                    if (conditional) {
                        r.ifMatch(current.get().etag());
                    }
                }));
            }
        } catch (FileAlreadyExistsException e) {
            // Replaced between the read and the delete: it is someone else's now.
        } catch (IOException e) {
            log.warn("could not release the lease on {}: {}; it expires by itself within {}", storage.location(),
                    e.getMessage(), ttl);
        }
    }

    /** The lease a storage took and has not released: its deletes and overwrites check it first. */
    static final class Held {
        private volatile Lease held;

        Lease take(Lease lease) {
            held = lease;
            return lease;
        }

        void released(Lease lease) {
            if (held == lease) {
                held = null;
            }
        }

        /**
         * Before a delete or an overwrite: while the storage holds the bucket's lease, it must still
         * hold it. A holder that lost it (it expired, another process took over) stops here instead
         * of deleting what the new holder may be relying on. Without a lease (sync, the archiver), nothing.
         */
        void check() throws IOException {
            Lease lease = held;
            if (lease != null) {
                lease.check();
            }
        }
    }
}
