package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.storage.s3.S3Settings;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_S3_BUCKET;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_S3_ENDPOINT;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_S3_PATH_STYLE;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_S3_PREFIX;
import static io.pgbackup.core.config.PgBackupConfig.PG_BACKUP_S3_REGION;

/** {@code PG_BACKUP_S3_*} read and checked, each malformed value refused naming its variable. */
final class S3Config {
    /** S3's bucket naming rules: 3 to 63 lowercase letters, digits, dots and hyphens, a letter or digit at each end. */
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private S3Config() {
    }

    static S3Settings fromSettings(EnvSettings env) {
        String bucket = value(env, PG_BACKUP_S3_BUCKET);
        if (bucket == null) {
            for (String other : new String[] {PG_BACKUP_S3_PREFIX, PG_BACKUP_S3_REGION, PG_BACKUP_S3_ENDPOINT, PG_BACKUP_S3_PATH_STYLE}) {
                if (value(env, other) != null) {
                    throw invalid(other + " is set but " + PG_BACKUP_S3_BUCKET + " is not: set the bucket too, or unset " + other);
                }
            }
            return null;
        }
        if (!BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
            throw invalid(PG_BACKUP_S3_BUCKET + "='" + printable(bucket) + "' is not an S3 bucket name: use 3 to 63 lowercase"
                    + " letters, digits, dots and hyphens (the bucket only, no s3:// and no path; put a path in "
                    + PG_BACKUP_S3_PREFIX + ")");
        }
        String prefix = value(env, PG_BACKUP_S3_PREFIX);
        prefix = prefix == null ? "" : prefix;
        if (prefix.chars().anyMatch(Character::isISOControl)) {
            throw invalid(PG_BACKUP_S3_PREFIX + " contains a control character (newline, tab): use a path such as db1/pgbackup");
        }
        String region = value(env, PG_BACKUP_S3_REGION);
        region = region == null ? PgBackupConfig.DEFAULT_S3_REGION : region;
        if (!REGION.matcher(region).matches()) {
            throw invalid(PG_BACKUP_S3_REGION + "='" + printable(region) + "' is not a region name: use e.g. eu-west-1");
        }
        Optional<URI> endpoint = Optional.ofNullable(value(env, PG_BACKUP_S3_ENDPOINT)).map(S3Config::endpoint);
        boolean pathStyle = env.bool(PG_BACKUP_S3_PATH_STYLE, endpoint.isPresent());
        try {
            return new S3Settings(bucket, prefix, region, endpoint, pathStyle);
        } catch (IllegalArgumentException e) {
            throw invalid(PG_BACKUP_S3_PREFIX + "='" + printable(prefix) + "' is not usable: " + e.getMessage()
                    + "; use a path such as db1/pgbackup");
        }
    }

    private static URI endpoint(String raw) {
        String hint = ": use the server's URL, e.g. https://minio.example.com:9000 (leave it unset for AWS)";
        URI uri;
        try {
            uri = new URI(raw);
        } catch (URISyntaxException e) {
            throw invalid(PG_BACKUP_S3_ENDPOINT + "='" + printable(raw) + "' is not a URL" + hint);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw invalid(PG_BACKUP_S3_ENDPOINT + "='" + printable(raw) + "' is not an http:// or https:// URL with a host" + hint);
        }
        if (uri.getUserInfo() != null) {
            // Credentials come from the SDK's chain only; a URL holding them would end up in scripts and logs.
            throw invalid(PG_BACKUP_S3_ENDPOINT + " contains user information: remove it and give the credentials through"
                    + " AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or a role");
        }
        if (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")
                || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw invalid(PG_BACKUP_S3_ENDPOINT + "='" + printable(raw) + "' has a path or query: give only scheme, host and"
                    + " port, and put a path in " + PG_BACKUP_S3_PREFIX);
        }
        return URI.create(scheme + "://" + uri.getRawAuthority());
    }

    private static String value(EnvSettings env, String name) {
        String raw = env.get(name);
        return raw == null || raw.isBlank() ? null : raw.strip();
    }

    private static String printable(String s) {
        return s.replaceAll("\\p{Cntrl}", "?");
    }

    private static PgBackupException invalid(String message) {
        return new PgBackupException(ErrorCode.INVALID_CONFIG, message);
    }
}
