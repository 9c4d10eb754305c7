package io.pgbackup.core.internal.postgres.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the PEM files libpq users have (root.crt, postgresql.crt, postgresql.key) with the JDK's
 * own parsers. Keys: PKCS#8 ({@code BEGIN PRIVATE KEY}) of any algorithm, and PKCS#1 RSA
 * ({@code BEGIN RSA PRIVATE KEY}), which only needs the standard PKCS#8 envelope around it.
 */
final class PemFiles {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)-----END \\1-----");

    private PemFiles() {
    }

    static List<X509Certificate> certificates(String variable, Path file) throws TlsSetupException {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> certs = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                certs.add((X509Certificate) c);
            }
            if (certs.isEmpty()) {
                throw new TlsSetupException(variable + "=" + file + " holds no certificate: give a PEM file");
            }
            return certs;
        } catch (IOException | CertificateException e) {
            throw new TlsSetupException(variable + "=" + file + " is not a readable PEM certificate file ("
                    + e.getMessage() + "): give a PEM file");
        }
    }

    static PrivateKey privateKey(String variable, Path file) throws TlsSetupException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new TlsSetupException(variable + "=" + file + " cannot be read: " + e.getMessage());
        }
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String type = m.group(1);
            byte[] der;
            try {
                der = Base64.getMimeDecoder().decode(m.group(2));
            } catch (IllegalArgumentException e) {
                continue;
            }
            switch (type) {
                case "PRIVATE KEY" -> {
                    return pkcs8(variable, file, der);
                }
                case "RSA PRIVATE KEY" -> {
                    if (text.contains("Proc-Type: 4,ENCRYPTED")) {
                        throw encrypted(variable, file);
                    }
                    return pkcs8(variable, file, rsaPkcs1ToPkcs8(der));
                }
                case "ENCRYPTED PRIVATE KEY" -> throw encrypted(variable, file);
                default -> { }
            }
        }
        throw new TlsSetupException(variable + "=" + file + " holds no PKCS#8 or RSA private key in PEM: convert it"
                + " with: openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem");
    }

    private static TlsSetupException encrypted(String variable, Path file) {
        return new TlsSetupException(variable + "=" + file + " is encrypted with a passphrase, which pgbackup cannot"
                + " ask for: decrypt it with: openssl pkey -in " + file + " -out key.pem (mode 0600)");
    }

    private static PrivateKey pkcs8(String variable, Path file, byte[] der) throws TlsSetupException {
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // not this algorithm
            }
        }
        throw new TlsSetupException(variable + "=" + file + " holds a private key of an unknown kind: use an RSA, EC"
                + " or Ed25519 key in PEM");
    }

    /** PKCS#8 PrivateKeyInfo: SEQUENCE { INTEGER 0, SEQUENCE { OID rsaEncryption, NULL }, OCTET STRING pkcs1 }. */
    private static byte[] rsaPkcs1ToPkcs8(byte[] pkcs1) {
        byte[] version = {0x02, 0x01, 0x00};
        byte[] algorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01,
            0x01, 0x05, 0x00};
        byte[] octets = der(0x04, pkcs1);
        byte[] body = new byte[version.length + algorithm.length + octets.length];
        System.arraycopy(version, 0, body, 0, version.length);
        System.arraycopy(algorithm, 0, body, version.length, algorithm.length);
        System.arraycopy(octets, 0, body, version.length + algorithm.length, octets.length);
        return der(0x30, body);
    }

    private static byte[] der(int tag, byte[] content) {
        int n = content.length;
        byte[] length = n < 0x80 ? new byte[] {(byte) n}
                : n < 0x100 ? new byte[] {(byte) 0x81, (byte) n}
                : n < 0x10000 ? new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n}
                : new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
        byte[] out = new byte[1 + length.length + n];
        out[0] = (byte) tag;
        System.arraycopy(length, 0, out, 1, length.length);
        System.arraycopy(content, 0, out, 1 + length.length, n);
        return out;
    }
}
