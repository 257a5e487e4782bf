package com.paytrim.auth;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The JNI entry points of libpaytrim_auth (src/ffi/jni.rs) and the loader.
 *
 * <p>Loading order: the system property {@code paytrim.auth.library} (an
 * absolute path), then the jar resource {@code native/<os>-<arch>/<lib>}
 * copied to a temporary file, then {@code System.loadLibrary("paytrim_auth")}.
 * After loading, the native ABI version must equal {@link #ABI_VERSION}.
 */
final class NativeBridge {
    /** The C ABI version ({@code PAYTRIM_AUTH_ABI_VERSION}) this wrapper was written for. */
    static final int ABI_VERSION = 1;
    static final String LIBRARY_PROPERTY = "paytrim.auth.library";

    private static final Throwable LOAD_FAILURE;
    private static final String LOADED_FROM;

    static {
        Throwable failure = null;
        String from = null;
        try {
            from = load();
            int abi;
            try {
                abi = abiVersion();
            } catch (UnsatisfiedLinkError e) {
                throw new UnsatisfiedLinkError("paytrim-auth: the native library loaded from " + from
                        + " has no JNI glue (built without the 'jni' cargo feature, or too old): " + e.getMessage());
            }
            if (abi != ABI_VERSION) {
                throw new UnsatisfiedLinkError("paytrim-auth: the native library loaded from " + from
                        + " implements ABI version " + abi + ", but this wrapper needs ABI version "
                        + ABI_VERSION + "; use a libpaytrim_auth that matches this jar");
            }
            init(NativeBridge.class, PaytrimAuthException.class);
        } catch (Throwable t) {
            failure = t;
        }
        LOAD_FAILURE = failure;
        LOADED_FROM = from;
    }

    private NativeBridge() {
    }

    /** Throws the load failure (as an UnsatisfiedLinkError) if the library is unusable. */
    static void ensureLoaded() {
        if (LOAD_FAILURE != null) {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError(String.valueOf(LOAD_FAILURE.getMessage()));
            e.initCause(LOAD_FAILURE);
            throw e;
        }
    }

    static String loadedFrom() {
        return LOADED_FROM;
    }

    private static String load() throws IOException {
        String explicit = System.getProperty(LIBRARY_PROPERTY);
        if (explicit != null && !explicit.trim().isEmpty()) {
            File f = new File(explicit.trim());
            if (!f.isAbsolute()) {
                throw new UnsatisfiedLinkError("paytrim-auth: " + LIBRARY_PROPERTY + " must be an absolute path, got " + explicit);
            }
            System.load(f.getPath());
            return f.getPath();
        }
        String lib = System.mapLibraryName("paytrim_auth");
        String resource = "/native/" + platform() + "/" + lib;
        InputStream in = NativeBridge.class.getResourceAsStream(resource);
        if (in != null) {
            Path dir = Files.createTempDirectory("paytrim-auth-");
            Path file = dir.resolve(lib);
            try {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                in.close();
            }
            System.load(file.toAbsolutePath().toString());
            if (File.separatorChar == '/') {
                // On Unix the mapping outlives the file: leave nothing behind.
                Files.deleteIfExists(file);
                Files.deleteIfExists(dir);
            } else {
                file.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
            }
            return "jar resource " + resource;
        }
        System.loadLibrary("paytrim_auth");
        return "java.library.path (" + lib + ")";
    }

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.contains("mac") || os.contains("darwin") ? "macos"
                : os.contains("windows") ? "windows" : os.replaceAll("[^a-z0-9]", "");
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64"
                : arch.equals("aarch64") || arch.equals("arm64") ? "aarch64" : arch.replaceAll("[^a-z0-9_]", "");
        return o + "-" + a;
    }

    /**
     * Called by native code, exactly once per {@link #getTokenAsync}: with a
     * token or an exception. Never throws back into native code.
     */
    static void asyncResult(Object call, String token, long expiresOnUnixMs, Throwable error) {
        try {
            ((AsyncCall) call).deliver(token, expiresOnUnixMs, error);
        } catch (Throwable ignored) {
            // Nothing sensible to do on a native thread; AsyncCall already guards itself.
        }
    }

    // --- natives (src/ffi/jni.rs) ---

    static native int abiVersion();

    static native String version();

    static native void init(Class<?> bridge, Class<?> exceptionClass);

    static native long newClient(String clientId, String clientSecret, String[] keys, String[] values);

    static native void freeClient(long handle);

    static native String getToken(long handle, long[] expiresOut);

    static native String getCachedToken(long handle, long[] expiresOut);

    static native String refreshToken(long handle, long[] expiresOut);

    static native String getTokenJson(long handle);

    static native void getTokenAsync(long handle, Object asyncCall);

    static native void refreshTokenAsync(long handle, Object asyncCall);
}
