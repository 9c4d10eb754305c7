package io.pgbackup.core.internal.storage;

import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The check of a stored file against what its manifest recorded, size then SHA-256, shared by
 * restore (before anything is written) and verify; and the one place a SHA-256 is made.
 */
public final class StoredFileCheck {
    private StoredFileCheck() {
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    public static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    /** What is wrong with the object's size, or {@code null}. */
    public static String sizeProblem(Optional<Storage.StoredObject> stored, long expectedSize, String where) {
        if (stored.isEmpty()) {
            return "is missing from " + where;
        }
        long size = stored.get().size();
        return size == expectedSize ? null
                : "is " + size + " bytes, pgbackup_manifest.json says " + expectedSize + " (truncated or replaced?)";
    }

    /** What is wrong with bytes read and their digest, or {@code null}. */
    public static String contentProblem(long bytesRead, String sha256, long expectedSize, String expectedSha256) {
        if (bytesRead != expectedSize) {
            return "read " + bytesRead + " bytes, pgbackup_manifest.json says " + expectedSize;
        }
        return sha256.equalsIgnoreCase(expectedSha256) ? null
                : "SHA-256 is " + sha256 + ", pgbackup_manifest.json says " + expectedSha256 + " (the file was altered or damaged)";
    }

    /** Size, then a full read for the SHA-256: what is wrong with the object, or {@code null}. */
    public static String check(Repository repository, String key, long expectedSize, String expectedSha256) throws IOException {
        String problem = sizeProblem(repository.storage().stat(key), expectedSize, repository.locationOf(key.substring(0, key.lastIndexOf('/'))));
        if (problem != null) {
            return problem;
        }
        MessageDigest sha = sha256();
        long read;
        try (InputStream in = new DigestInputStream(repository.rawStorage().open(key), sha)) {
            read = in.transferTo(OutputStream.nullOutputStream());
        }
        return contentProblem(read, hex(sha), expectedSize, expectedSha256);
    }
}
