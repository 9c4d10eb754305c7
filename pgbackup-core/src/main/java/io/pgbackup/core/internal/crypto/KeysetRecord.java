package io.pgbackup.core.internal.crypto;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.List;

/**
 * A data keyset as stored ({@code base/<id>/keys/<name>.json}, {@code wal_archive/keys/<name>.json}):
 * the random Tink streaming-AEAD keyset, wrapped by one or more wrap keys. Rotation adds a wrap
 * under the new key, then drops the old ones; the data sealed with the keyset is never touched.
 * Each wrap's context (associated data) is {@code pgbackup-keyset-v1:<the record's own key>}, so a
 * wrap copied into another record does not open.
 *
 * @param format  {@value #FORMAT}
 * @param created when the keyset was made (ISO-8601), for people
 * @param wraps   the keyset's bytes (Tink's binary keyset format) wrapped by each key
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record KeysetRecord(String format, String created, List<Wrap> wraps) {
    public static final String FORMAT = "pgbackup-keyset-1";
    private static final ObjectMapper JSON = new ObjectMapper();

    public KeysetRecord {
        wraps = List.copyOf(wraps == null ? List.of() : wraps);
    }

    /** One wrap: which key made it ({@link WrapKey#id()}) and the wrapped keyset, base64. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Wrap(String wrapKeyId, String wrapped) {
    }

    /** The context each wrap in the record at {@code recordKey} is bound to. */
    public static byte[] wrapContext(String recordKey) {
        return ("pgbackup-keyset-v1:" + recordKey).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    public byte[] toJson() throws IOException {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    }

    public static KeysetRecord parse(byte[] json, String where) throws IOException {
        KeysetRecord r;
        try {
            r = JSON.readValue(json, KeysetRecord.class);
        } catch (IOException e) {
            throw new IOException(where + " is not a pgbackup keyset record");
        }
        if (!FORMAT.equals(r.format())) {
            throw new IOException(where + " has format " + r.format() + ", this pgbackup reads " + FORMAT);
        }
        return r;
    }

    /** The ids of the keys that wrap this keyset. */
    public List<String> wrapKeyIds() {
        return wraps.stream().map(Wrap::wrapKeyId).toList();
    }
}
