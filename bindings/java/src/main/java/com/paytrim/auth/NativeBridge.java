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
 * absolute path), then the jar resource {@code native/<rid>/<lib>} for this
 * platform ({@link NativePlatform}: linux-x64, linux-musl-arm64, osx-arm64,
 * win-x64, ...), extracted once into the user's cache directory
 * ({@link NativeCache}), then {@code System.loadLibrary("paytrim_auth")}; when
 * none has it, the error names this platform and the platforms the jar holds.
 * After loading, the native ABI version must equal {@link #ABI_VERSION}.
 *
 * <p>Class loaders: JNI binds a native library to the one class loader that
 * loaded it. Every class loader that loads this class gets its own instance of
 * the native library (for a file that another class loader already loaded,
 * a private temporary copy), so each has its own process-wide cache and fetch
 * threads. Load the jar from one shared class loader to share one cache.
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
            try {
                System.load(f.getPath());
                return f.getPath();
            } catch (UnsatisfiedLinkError e) {
                if (!loadedByAnotherClassLoader(e)) {
                    throw e;
                }
                return loadPrivateCopy(f, e);
            }
        }
        String rid = NativePlatform.current();
        String lib = NativePlatform.fileName(rid);
        String resource = NativePlatform.resource(rid);
        InputStream in = NativeBridge.class.getClassLoader() == null ? null
                : NativeBridge.class.getClassLoader().getResourceAsStream(resource);
        if (in != null) {
            NativeCache.Blob blob;
            try {
                blob = NativeCache.read(in);
            } finally {
                in.close();
            }
            return loadFromJar(rid, lib, resource, blob);
        }
        try {
            System.loadLibrary("paytrim_auth");
            return "java.library.path (" + System.mapLibraryName("paytrim_auth") + ")";
        } catch (UnsatisfiedLinkError e) {
            if (!loadedByAnotherClassLoader(e)) {
                UnsatisfiedLinkError missing = new UnsatisfiedLinkError(NativePlatform.missingMessage(rid,
                        System.getProperty("os.name", ""), System.getProperty("os.arch", ""),
                        NativePlatform.present(NativeBridge.class.getClassLoader()), e.getMessage()));
                missing.initCause(e);
                throw missing;
            }
            File f = onLibraryPath(System.mapLibraryName("paytrim_auth"));
            if (f == null) {
                throw e;
            }
            return loadPrivateCopy(f, e);
        }
    }

    /**
     * The jar's library for this platform: extracted once per version and hash
     * into the user's cache directory (NativeCache) and loaded from there; a
     * second class loader of this JVM gets a private copy of that file; when no
     * cache directory is usable, a copy in a fresh temporary directory.
     */
    private static String loadFromJar(String rid, String lib, String resource, NativeCache.Blob blob) throws IOException {
        java.util.List<String> refusals = new java.util.ArrayList<>();
        Path cached = NativeCache.extract(NativeCache.defaultBases(), jarVersion(), rid, lib, blob, refusals);
        if (cached != null) {
            File f = cached.toFile();
            try {
                System.load(f.getAbsolutePath());
                return "jar resource /" + resource + " (extracted to " + f.getAbsolutePath() + ")";
            } catch (UnsatisfiedLinkError e) {
                if (!loadedByAnotherClassLoader(e)) {
                    throw e;
                }
                return "jar resource /" + resource + " (" + loadPrivateCopy(f, e) + ")";
            }
        }
        loadCopy(new java.io.ByteArrayInputStream(blob.bytes), lib);
        return "jar resource /" + resource + " (a copy for this class loader: no usable cache directory: "
                + String.join("; ", refusals) + ")";
    }

    /** This jar's version (Maven's pom.properties), or null outside a jar. */
    private static String jarVersion() {
        try (InputStream in = NativeBridge.class.getResourceAsStream("/META-INF/maven/com.paytrim/paytrim-auth/pom.properties")) {
            if (in == null) {
                return null;
            }
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The JVM lets one class loader load a given library file. A second class
     * loader (another web application, another plugin) gets its own copy of the
     * file: a separate native library with its own token cache.
     */
    private static boolean loadedByAnotherClassLoader(UnsatisfiedLinkError e) {
        String m = e.getMessage();
        return m != null && m.contains("another classloader");
    }

    private static String loadPrivateCopy(File original, UnsatisfiedLinkError refused) {
        try {
            InputStream in = new java.io.FileInputStream(original);
            try {
                loadCopy(in, original.getName());
            } finally {
                in.close();
            }
        } catch (IOException | UnsatisfiedLinkError copyFailed) {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError("paytrim-auth: " + original
                    + " is already loaded by another class loader in this JVM, and a private copy for this class loader"
                    + " could not be loaded from java.io.tmpdir (" + System.getProperty("java.io.tmpdir") + "): "
                    + copyFailed + ". Load paytrim-auth from one class loader shared by every application (for example"
                    + " the application server's lib/ directory), or point java.io.tmpdir at a writable directory that"
                    + " allows executable mappings.");
            e.initCause(refused);
            throw e;
        }
        return original.getPath() + " (a private copy for this class loader: another class loader loaded the file)";
    }

    /** Copies the library to a fresh temporary directory, loads it from there, and removes the file (Unix). */
    private static void loadCopy(InputStream in, String lib) throws IOException {
        Path dir = Files.createTempDirectory("paytrim-auth-");
        Path file = dir.resolve(lib);
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        try {
            System.load(file.toAbsolutePath().toString());
        } finally {
            if (File.separatorChar == '/') {
                // On Unix the mapping outlives the file: leave nothing behind.
                Files.deleteIfExists(file);
                Files.deleteIfExists(dir);
            } else {
                file.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
            }
        }
    }

    private static File onLibraryPath(String lib) {
        String path = System.getProperty("java.library.path", "");
        for (String dir : path.split(java.util.regex.Pattern.quote(File.pathSeparator))) {
            if (dir.isEmpty()) {
                continue;
            }
            File f = new File(dir, lib);
            if (f.isFile()) {
                return f;
            }
        }
        return null;
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

    /** Called by native code for each log event, on the thread where it happened. Never throws. */
    static void logEvent(int level, String message) {
        try {
            LogDispatch.enqueue(level, message);
        } catch (Throwable ignored) {
            // OutOfMemoryError: drop the event.
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

    static native String getCachedTokenJson(long handle);

    static native void getTokenAsync(long handle, Object asyncCall);

    static native void refreshTokenAsync(long handle, Object asyncCall);

    // per-call scopes (src/ffi/jni_scopes.rs): each element one scope, checked natively

    static native String getTokenForScopes(long handle, String[] scopes, long[] expiresOut);

    static native String getCachedTokenForScopes(long handle, String[] scopes, long[] expiresOut);

    static native String refreshTokenForScopes(long handle, String[] scopes, long[] expiresOut);

    static native void getTokenForScopesAsync(long handle, String[] scopes, Object asyncCall);

    static native void refreshTokenForScopesAsync(long handle, String[] scopes, Object asyncCall);

    static native void setLogLevel(int level);

    static native void setLogPii(boolean enabled);
}
