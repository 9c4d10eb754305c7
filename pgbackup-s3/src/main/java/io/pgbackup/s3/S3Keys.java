package io.pgbackup.s3;

/**
 * Which object keys pgbackup writes and trusts: a bucket may hold keys written by anything, so a
 * key that could escape a directory or mislead a terminal is refused on write and skipped on list.
 */
final class S3Keys {
    static final int MAX_KEY_BYTES = 1024;

    private S3Keys() {
    }

    static void requireKey(String key) {
        if (hostileReason(key) != null) {
            throw new IllegalArgumentException("not an object key: '" + key + "' (" + hostileReason(key) + ")");
        }
    }

    /**
     * Why a key must not be used, or {@code null}: a bucket may hold keys written by anything, and
     * a key that would escape a directory or mislead a terminal once the repository is copied or
     * restored to disk is skipped rather than trusted.
     */
    static String hostileReason(String key) {
        if (key.isEmpty()) {
            return "empty";
        }
        if (utf8Length(key) > MAX_KEY_BYTES) {
            return "longer than " + MAX_KEY_BYTES + " bytes";
        }
        if (key.startsWith("/")) {
            return "leading /";
        }
        for (int i = 0; i < key.length(); i++) {
            if (Character.isISOControl(key.charAt(i))) {
                return "control character";
            }
        }
        for (String segment : key.split("/", -1)) {
            if (segment.isEmpty()) {
                return "empty segment";
            }
            if (segment.equals(".") || segment.equals("..")) {
                return "'" + segment + "' segment";
            }
        }
        return null;
    }

    static int utf8Length(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    /** A key made safe to log: control characters escaped, length capped. */
    static String printable(String key) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < key.length() && out.length() < 200; i++) {
            char c = key.charAt(i);
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return "'" + out + (key.length() > 200 ? "...'" : "'");
    }
}
