package io.pgbackup.core.internal.postgres.replication;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: no channel
 * binding, empty user name (the server takes the startup packet's). The password is used as
 * UTF-8 without SASLprep, which is the same for every password without non-ASCII characters
 * that SASLprep maps.
 */
final class ScramSha256 {
    static final String MECHANISM = "SCRAM-SHA-256";
    private static final String GS2_HEADER = "n,,";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] password;
    private final String clientNonce;
    private final String clientFirstBare;
    private byte[] saltedPassword;
    private String authMessage;
    private boolean verified;

    ScramSha256(String password) {
        this.password = password.getBytes(StandardCharsets.UTF_8);
        byte[] nonce = new byte[18];
        RANDOM.nextBytes(nonce);
        this.clientNonce = Base64.getEncoder().encodeToString(nonce);
        this.clientFirstBare = "n=,r=" + clientNonce;
    }

    String clientFirstMessage() {
        return GS2_HEADER + clientFirstBare;
    }

    String clientFinalMessage(String serverFirst) throws IOException {
        Map<Character, String> attrs = attributes(serverFirst);
        String nonce = attrs.get('r');
        String salt = attrs.get('s');
        String iterations = attrs.get('i');
        if (nonce == null || salt == null || iterations == null || !nonce.startsWith(clientNonce)
                || nonce.length() == clientNonce.length()) {
            throw new IOException("invalid SCRAM server-first-message from the server");
        }
        int count;
        try {
            count = Integer.parseInt(iterations);
            saltedPassword = hi(Base64.getDecoder().decode(salt), count);
        } catch (IllegalArgumentException e) {
            throw new IOException("invalid SCRAM salt or iteration count from the server");
        }
        String withoutProof = "c=" + Base64.getEncoder().encodeToString(GS2_HEADER.getBytes(StandardCharsets.US_ASCII))
                + ",r=" + nonce;
        authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] clientKey = hmac(saltedPassword, "Client Key");
        byte[] storedKey = sha256(clientKey);
        byte[] signature = hmac(storedKey, authMessage);
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ signature[i]);
        }
        return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    }

    void verifyServerFinal(String serverFinal) throws IOException {
        Map<Character, String> attrs = attributes(serverFinal);
        if (attrs.containsKey('e')) {
            throw new IOException("SCRAM authentication failed: " + attrs.get('e'));
        }
        if (authMessage == null || !attrs.containsKey('v')) {
            throw new IOException("invalid SCRAM server-final-message from the server");
        }
        byte[] expected = hmac(hmac(saltedPassword, "Server Key"), authMessage);
        byte[] actual;
        try {
            actual = Base64.getDecoder().decode(attrs.get('v'));
        } catch (IllegalArgumentException e) {
            throw new IOException("invalid SCRAM server signature from the server");
        }
        if (!MessageDigest.isEqual(expected, actual)) {
            throw new IOException("the server's SCRAM signature is wrong: it does not know the password");
        }
        verified = true;
    }

    boolean verified() {
        return verified;
    }

    private static Map<Character, String> attributes(String message) {
        Map<Character, String> attrs = new HashMap<>();
        for (String part : message.split(",")) {
            if (part.length() >= 2 && part.charAt(1) == '=') {
                attrs.put(part.charAt(0), part.substring(2));
            }
        }
        return attrs;
    }

    /** PBKDF2-HMAC-SHA-256 with one block of output, RFC 5802's Hi(). */
    private byte[] hi(byte[] salt, int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(password, "HmacSHA256"));
            mac.update(salt);
            byte[] u = mac.doFinal(new byte[] {0, 0, 0, 1});
            byte[] result = u.clone();
            for (int i = 1; i < iterations; i++) {
                u = mac.doFinal(u);
                for (int j = 0; j < result.length; j++) {
                    result[j] ^= u[j];
                }
            }
            return result;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no HmacSHA256", e);
        }
    }

    private static byte[] hmac(byte[] key, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no HmacSHA256", e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "ScramSha256[verified=" + verified + "]";
    }
}
