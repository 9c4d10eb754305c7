package io.pgbackup.s3;

import io.pgbackup.core.storage.Storage.StoredObject;
import io.pgbackup.s3.S3Storage.PendingUpload;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The paged listings of an {@link S3Storage}: its objects, and its multipart uploads never finished. */
final class S3Listing {
    private static final Logger log = LoggerFactory.getLogger(S3Storage.class);
    private static final int PAGE = 1000;

    private S3Listing() {
    }

    /** The objects under {@code prefix}, sorted by key; the lease, folder markers and hostile keys left out. */
    static List<StoredObject> objects(S3Storage storage, String prefix) throws IOException {
        String root = storage.rootPrefix();
        String listed = root + prefix;
        List<StoredObject> found = new ArrayList<>();
        String token = null;
        do {
            String continuation = token;
            ListObjectsV2Response page = storage.call(listed, () -> storage.client().listObjectsV2(r -> r.bucket(storage.bucket())
                    .prefix(listed).maxKeys(PAGE).continuationToken(continuation)));
            for (S3Object object : page.contents()) {
                String key = object.key().substring(root.length());
                if (key.equals(S3Storage.LEASE_KEY)) {
                    continue;
                }
                if (key.endsWith("/") && object.size() == 0 && S3Keys.hostileReason(key.substring(0, key.length() - 1)) == null) {
                    // A "folder" marker made by a console or another tool: no object of ours.
                    continue;
                }
                String reason = S3Keys.hostileReason(key);
                if (reason != null || S3Keys.utf8Length(object.key()) > S3Keys.MAX_KEY_BYTES) {
                    log.warn("ignoring the object {} in {}: its key is not one pgbackup writes ({})",
                            S3Keys.printable(object.key()), storage.location(), reason != null ? reason : "too long");
                    continue;
                }
                found.add(new StoredObject(key, object.size(), object.lastModified()));
            }
            token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
        } while (token != null);
        found.sort(Comparator.comparing(StoredObject::key));
        return found;
    }

    /** The multipart uploads under this storage's prefix that are neither completed nor aborted. */
    static List<PendingUpload> pendingUploads(S3Storage storage) throws IOException {
        String root = storage.rootPrefix();
        List<PendingUpload> found = new ArrayList<>();
        String keyMarker = null;
        String uploadMarker = null;
        while (true) {
            String k = keyMarker;
            String u = uploadMarker;
            ListMultipartUploadsResponse page = storage.call(root, () -> storage.client().listMultipartUploads(r -> r.bucket(storage.bucket())
                    .prefix(root).maxUploads(PAGE).keyMarker(k).uploadIdMarker(u)));
            for (MultipartUpload upload : page.uploads()) {
                found.add(new PendingUpload(upload.key(), upload.uploadId(), upload.initiated()));
            }
            if (!Boolean.TRUE.equals(page.isTruncated())) {
                return found;
            }
            keyMarker = page.nextKeyMarker();
            uploadMarker = page.nextUploadIdMarker();
        }
    }
}
