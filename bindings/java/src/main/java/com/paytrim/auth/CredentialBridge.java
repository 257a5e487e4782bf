package com.paytrim.auth;

/**
 * The JNI entry points for credentials (src/ffi/jni_credentials.rs). The
 * library is loaded by {@link NativeBridge}; call
 * {@link NativeBridge#ensureLoaded()} first. Credential handles are freed by
 * {@link #free} once the client is made; clients are {@link NativeBridge} handles.
 */
final class CredentialBridge {
    private CredentialBridge() {
    }

    static native long secret(String clientSecret);

    static native long certificateFile(String path, char[] password);

    static native long certificatePem(String certPem, String keyPem, char[] password);

    static native long federatedTokenFile(String path);

    static native long assertionCallback(AssertionBridge bridge);

    static native void set(long credential, String key, String value);

    static native void free(long credential);

    static native long newClient(String clientId, long credential, String[] keys, String[] values);

    static native long newClientFromEnvironment(String[] keys, String[] values);

    static native long newManagedIdentityClient(String identity, String[] keys, String[] values);

    static native void assertionComplete(long completion, String assertion);

    static native void assertionFail(long completion, String message);
}
