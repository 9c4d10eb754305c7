package io.pgbackup.core.storage.s3;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * Where pgbackup-s3's {@code S3Storage} keeps its objects. Holds no credentials: those come from the AWS SDK's
 * default chain (environment, profile, instance role), so this record can be logged and printed.
 *
 * @param bucket    the bucket, which must exist
 * @param prefix    the key prefix of the repository inside the bucket, without leading or trailing
 *                  {@code /}; empty for the bucket's root
 * @param region    the AWS region, e.g. {@code eu-west-1} (S3-compatible servers accept any, often {@code us-east-1})
 * @param endpoint  a non-AWS endpoint (MinIO, Ceph, s3proxy, ...); empty for AWS itself
 * @param pathStyle {@code http://host/bucket/key} addressing instead of {@code http://bucket.host/key};
 *                  most S3-compatible servers need it
 */
public record S3Settings(String bucket, String prefix, String region, Optional<URI> endpoint, boolean pathStyle) {
    public S3Settings {
        Objects.requireNonNull(bucket, "bucket");
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(endpoint, "endpoint");
        if (bucket.isBlank() || bucket.contains("/")) {
            throw new IllegalArgumentException("not an S3 bucket name: '" + bucket + "'");
        }
        if (region.isBlank()) {
            throw new IllegalArgumentException("the S3 region is empty");
        }
        prefix = trimSlashes(prefix);
        if (prefix.contains("//")) {
            throw new IllegalArgumentException("the S3 prefix '" + prefix + "' has an empty segment");
        }
        for (String segment : prefix.split("/")) {
            if (segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("the S3 prefix '" + prefix + "' has a '" + segment + "' segment");
            }
        }
    }

    /** AWS S3 itself, virtual-hosted addressing. */
    public static S3Settings aws(String bucket, String prefix, String region) {
        return new S3Settings(bucket, prefix, region, Optional.empty(), false);
    }

    /** An S3-compatible server at {@code endpoint}, path-style addressing. */
    public static S3Settings compatible(URI endpoint, String bucket, String prefix, String region) {
        return new S3Settings(bucket, prefix, region, Optional.of(endpoint), true);
    }

    /**
     * A warning when the endpoint is plain {@code http://} to another machine: credentials' signatures
     * and every backup then cross the network unencrypted. Loopback ({@code localhost}, 127.0.0.0/8,
     * {@code ::1}, a local proxy or test server) is fine. Names are not resolved.
     */
    public Optional<String> plainHttpWarning() {
        if (endpoint.isEmpty() || !"http".equalsIgnoreCase(endpoint.get().getScheme())) {
            return Optional.empty();
        }
        String host = endpoint.get().getHost();
        if (host == null || isLoopback(host)) {
            return Optional.empty();
        }
        return Optional.of("PG_BACKUP_S3_ENDPOINT " + endpoint.get() + " is plain http:// to another machine: backups and WAL"
                + " travel unencrypted and can be read or altered on the way; use https://");
    }

    private static boolean isLoopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.equalsIgnoreCase("localhost") || h.toLowerCase(java.util.Locale.ROOT).endsWith(".localhost")) {
            return true;
        }
        // Only literals go to InetAddress: it does not look them up.
        if (h.matches("[0-9.]+") || h.contains(":")) {
            try {
                return java.net.InetAddress.getByName(h).isLoopbackAddress();
            } catch (java.net.UnknownHostException e) {
                return false;
            }
        }
        return false;
    }

    /** {@code s3://bucket/prefix}, for messages. */
    public String location() {
        return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
    }

    private static String trimSlashes(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && s.charAt(start) == '/') {
            start++;
        }
        while (end > start && s.charAt(end - 1) == '/') {
            end--;
        }
        return s.substring(start, end);
    }
}
