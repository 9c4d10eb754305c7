package io.pgbackup.core.internal.crypto;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.HybridDecrypt;
import com.google.crypto.tink.HybridEncrypt;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;

import java.security.GeneralSecurityException;
import java.util.Optional;

/**
 * The key that wraps data keys: a symmetric Tink AEAD keyset (wraps and unwraps), a hybrid
 * private keyset (wraps with its public half, unwraps), or a hybrid public keyset (wraps only).
 * Its {@link #id()} is the keyset's primary key id, which a private key and its public half share.
 * Never printed: only the id is.
 */
public final class WrapKey {
    private final String id;
    private final Optional<Aead> aead;
    private final Optional<HybridEncrypt> encrypt;
    private final Optional<HybridDecrypt> decrypt;

    private WrapKey(String id, Optional<Aead> aead, Optional<HybridEncrypt> encrypt, Optional<HybridDecrypt> decrypt) {
        this.id = id;
        this.aead = aead;
        this.encrypt = encrypt;
        this.decrypt = decrypt;
    }

    /**
     * The symmetric key in {@code handle} (parsed after {@link TinkSetup#register()}); empty when it is
     * not one (then it may be a key pair: {@link #ofKeyPair}).
     */
    static Optional<WrapKey> ofSymmetric(KeysetHandle handle) {
        return primitive(handle, Aead.class).map(aead -> new WrapKey(idOf(handle), Optional.of(aead), Optional.empty(), Optional.empty()));
    }

    /**
     * The private or public half of a key pair in {@code handle}, which must have been parsed after
     * {@link TinkSetup#registerHybrid()}.
     */
    static WrapKey ofKeyPair(KeysetHandle handle) throws GeneralSecurityException {
        String id = idOf(handle);
        Optional<HybridDecrypt> decrypt = primitive(handle, HybridDecrypt.class);
        if (decrypt.isPresent()) {
            return new WrapKey(id, Optional.empty(), primitive(handle.getPublicKeysetHandle(), HybridEncrypt.class), decrypt);
        }
        Optional<HybridEncrypt> encrypt = primitive(handle, HybridEncrypt.class);
        if (encrypt.isPresent()) {
            return new WrapKey(id, Optional.empty(), encrypt, Optional.empty());
        }
        throw new GeneralSecurityException("not an AEAD or hybrid encryption keyset");
    }

    /** The stable id {@code status} shows: the keyset's primary key id, 8 hex digits. */
    static String idOf(KeysetHandle handle) {
        return String.format("%08x", handle.getPrimary().getId());
    }

    private static <P> Optional<P> primitive(KeysetHandle handle, Class<P> type) {
        try {
            return Optional.of(handle.getPrimitive(RegistryConfiguration.get(), type));
        } catch (GeneralSecurityException | RuntimeException e) {
            return Optional.empty();
        }
    }

    public String id() {
        return id;
    }

    /** Whether this key can open what it wrapped (false for a public key). */
    public boolean canUnwrap() {
        return aead.isPresent() || decrypt.isPresent();
    }

    byte[] wrap(byte[] plain, byte[] context) throws GeneralSecurityException {
        if (aead.isPresent()) {
            return aead.get().encrypt(plain, context);
        }
        return encrypt.orElseThrow().encrypt(plain, context);
    }

    byte[] unwrap(byte[] wrapped, byte[] context) throws GeneralSecurityException {
        if (aead.isPresent()) {
            return aead.get().decrypt(wrapped, context);
        }
        return decrypt.orElseThrow(() -> new GeneralSecurityException("a public key cannot unwrap")).decrypt(wrapped, context);
    }
}
