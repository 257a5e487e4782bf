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
        String lib = System.mapLibraryName("paytrim_auth");
        String resource = "/native/" + platform() + "/" + lib;
        InputStream in = NativeBridge.class.getResourceAsStream(resource);
        if (in != null) {
            try {
                loadCopy(in, lib);
            } finally {
                in.close();
            }
            return "jar resource " + resource + " (a copy for this class loader)";
        }
        try {
            System.loadLibrary("paytrim_auth");
            return "java.library.path (" + lib + ")";
        } catch (UnsatisfiedLinkError e) {
            if (!loadedByAnotherClassLoader(e)) {
                throw e;
            }
            File f = onLibraryPath(lib);
            if (f == null) {
                throw e;
            }
            return loadPrivateCopy(f, e);
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

    static native void setLogLevel(int level);

    static native void setLogPii(boolean enabled);
}
