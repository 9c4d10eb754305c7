package io.pgbackup.s3;

import io.pgbackup.core.internal.concurrent.Futures;
import io.pgbackup.core.storage.Storage.ObjectWriter;
import io.pgbackup.core.storage.Storage.WriteMode;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Streams an object into S3: the first part is buffered, and an object that fits in it is one
 * PutObject at {@link #commit()}. A larger one becomes a multipart upload whose parts go up on a
 * small pool while the next part fills ({@link PartSizes} bounds the memory), and which is
 * completed at {@link #commit()}: until then nothing is visible under the key. Closing without
 * committing aborts the upload, so its parts stop costing storage.
 */
final class S3ObjectWriter implements ObjectWriter {
    private static final Logger log = LoggerFactory.getLogger(S3ObjectWriter.class);
    private static final int FIRST_BUFFER = 64 * 1024;

    private final S3Storage storage;
    private final S3Client s3;
    private final String bucket;
    private final String fullKey;
    private final WriteMode mode;
    private final ExecutorService uploads;
    private final OutputStream stream = new PartStream();

    private byte[] buffer = new byte[FIRST_BUFFER];
    private int filled;
    private int partNumber = 1;
    private String uploadId;
    /** Parts submitted and not yet seen to succeed; at most a few (see {@link PartSizes#maxInFlight}). */
    private final List<Future<CompletedPart>> pending = new ArrayList<>();
    private final List<CompletedPart> completed = new ArrayList<>();
    private volatile boolean abandoned;
    private IOException failure;
    private boolean committed;
    private boolean closed;

    S3ObjectWriter(S3Storage storage, S3Client s3, String bucket, String fullKey, WriteMode mode, ExecutorService uploads) {
        this.storage = storage;
        this.s3 = s3;
        this.bucket = bucket;
        this.fullKey = fullKey;
        this.mode = mode;
        this.uploads = uploads;
    }

    @Override
    public OutputStream stream() {
        return stream;
    }

    private final class PartStream extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            ensureWritable();
            while (len > 0) {
                long partSize = PartSizes.partSize(partNumber);
                if (filled == partSize) {
                    // Only a part known not to be the last is sent, so an object of exactly one part is one PutObject.
                    sendPart();
                    continue;
                }
                if (filled == buffer.length) {
                    buffer = Arrays.copyOf(buffer, (int) Math.min(partSize, (long) buffer.length * 2));
                }
                int n = Math.min(len, buffer.length - filled);
                System.arraycopy(b, off, buffer, filled, n);
                filled += n;
                off += n;
                len -= n;
            }
        }

        @Override
        public void close() {
            // commit() finishes the object; closing the stream alone must not.
        }
    }

    private void ensureWritable() throws IOException {
        if (failure != null) {
            throw failure;
        }
        if (committed || closed) {
            throw new IOException("the writer of " + storage.url(fullKey) + " is already " + (committed ? "committed" : "closed"));
        }
    }

    /** Hands the full buffer to the pool as the next part, and waits while too many are uploading. */
    private void sendPart() throws IOException {
        submitPart(filled == buffer.length ? buffer : Arrays.copyOf(buffer, filled));
        partNumber++;
        if (partNumber > PartSizes.MAX_PARTS) {
            throw fail(new IOException(storage.url(fullKey) + " is larger than an S3 object may be (5 TiB)"));
        }
        buffer = null;
        filled = 0;
        long nextSize = PartSizes.partSize(partNumber);
        awaitUploads(PartSizes.maxInFlight(nextSize));
        buffer = new byte[(int) nextSize];
    }

    private void submitPart(byte[] body) throws IOException {
        if (uploadId == null) {
            uploadId = storage.call(fullKey, () -> s3.createMultipartUpload(r -> r.bucket(bucket).key(fullKey)).uploadId());
        }
        int number = partNumber;
        String id = uploadId;
        pending.add(uploads.submit(() -> {
            if (abandoned) {
                // close() is aborting: a queued part must not reach S3 after the abort.
                return null;
            }
            String etag = s3.uploadPart(r -> r.bucket(bucket).key(fullKey).uploadId(id).partNumber(number)
                    .contentLength((long) body.length), RequestBody.fromBytes(body)).eTag();
            return CompletedPart.builder().partNumber(number).eTag(etag).build();
        }));
    }

    /** Waits until at most {@code inFlight} parts are still uploading; a failed part fails the writer. */
    private void awaitUploads(int inFlight) throws IOException {
        while (pending.size() > inFlight) {
            Future<CompletedPart> oldest = pending.stream().filter(Future::isDone).findFirst().orElse(pending.get(0));
            completed.add(result(oldest));
            pending.remove(oldest);
        }
        for (var it = pending.iterator(); it.hasNext(); ) {
            Future<CompletedPart> part = it.next();
            if (part.isDone()) {
                completed.add(result(part));
                it.remove();
            }
        }
    }

    private CompletedPart result(Future<CompletedPart> part) throws IOException {
        try {
            return part.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw fail(new InterruptedIOException("interrupted while uploading " + storage.url(fullKey)));
        } catch (CancellationException e) {
            throw fail(new IOException("the upload of " + storage.url(fullKey) + " was cancelled"));
        } catch (ExecutionException e) {
            Throwable cause = Futures.cause(e);
            throw fail(cause instanceof SdkException sdk ? storage.errors().toIOException(sdk, storage.url(fullKey))
                    : cause instanceof IOException io ? io : new IOException("uploading " + storage.url(fullKey) + " failed: " + cause, cause));
        }
    }

    private IOException fail(IOException e) {
        if (failure == null) {
            failure = e;
        }
        return failure;
    }

    @Override
    public void commit() throws IOException {
        ensureWritable();
        try {
            if (uploadId == null) {
                putWhole();
            } else {
                completeMultipart();
            }
            committed = true;
        } catch (IOException e) {
            throw fail(e);
        }
    }

    private void putWhole() throws IOException {
        refuseExisting();
        byte[] body = filled == buffer.length ? buffer : Arrays.copyOf(buffer, filled);
        storage.callConditional(fullKey, mode == WriteMode.CREATE_NEW, conditional -> s3.putObject(r -> {
            r.bucket(bucket).key(fullKey).contentLength((long) body.length);
            if (conditional) {
                r.ifNoneMatch("*");
            }
        }, RequestBody.fromBytes(body)));
    }

    private void completeMultipart() throws IOException {
        if (filled > 0) {
            submitPart(Arrays.copyOf(buffer, filled));
            buffer = new byte[0];
            filled = 0;
        }
        awaitUploads(0);
        List<CompletedPart> done = new ArrayList<>(completed);
        done.sort(Comparator.comparing(CompletedPart::partNumber));
        refuseExisting();
        storage.callConditional(fullKey, mode == WriteMode.CREATE_NEW, conditional -> s3.completeMultipartUpload(r -> {
            r.bucket(bucket).key(fullKey).uploadId(uploadId).multipartUpload(m -> m.parts(done));
            if (conditional) {
                r.ifNoneMatch("*");
            }
        }));
    }

    /**
     * CREATE_NEW's first line of defence. The write itself carries {@code If-None-Match: *}, which
     * AWS S3 (since 2024) evaluates atomically; some S3-compatible servers ignore it on
     * CompleteMultipartUpload or altogether, and there this HEAD is all there is: two writers
     * committing the same new key within the few milliseconds between it and the write could
     * both succeed, the later one winning. Archived WAL is written once by one archiver, so
     * that window only matters for a second, misconfigured archiver.
     */
    private void refuseExisting() throws IOException {
        if (mode == WriteMode.CREATE_NEW && storage.exists(fullKey)) {
            throw new FileAlreadyExistsException(storage.url(fullKey));
        }
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        buffer = null;
        if (committed || uploadId == null) {
            return;
        }
        // Parts still going up must finish (or fail) before the abort, or S3 could keep a part
        // uploaded after it; queued ones see the flag and do nothing.
        abandoned = true;
        for (Future<CompletedPart> part : pending) {
            try {
                part.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | CancellationException e) {
                // the upload is being abandoned anyway
            }
        }
        try {
            storage.call(fullKey, () -> s3.abortMultipartUpload(r -> r.bucket(bucket).key(fullKey).uploadId(uploadId)));
        } catch (IOException e) {
            // cleanupIncompleteUploads (or a bucket lifecycle rule) removes what this leaves. Not a
            // warning: the failure that made the writer abort is already reported, in one line.
            log.info("could not abort the upload of {}: {}; 'cleanupIncompleteUploads' removes it later",
                    storage.url(fullKey), e.getMessage());
        }
    }
}
