package com.paytrim.auth;

import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Which native library this JVM needs: the platform id (a .NET-style runtime
 * id, the same names as the NuGet package's {@code runtimes/<rid>/native/})
 * and the file name, from {@code os.name}, {@code os.arch} and the C library.
 * Pure functions of their inputs, so tests can drive them with any platform.
 */
final class NativePlatform {
    /** Every platform a release jar carries, as {@code native/<rid>/<file>}. */
    static final List<String> SUPPORTED = Collections.unmodifiableList(Arrays.asList(
            "linux-x64", "linux-arm64", "linux-musl-x64", "linux-musl-arm64",
            "osx-x64", "osx-arm64", "win-x64", "win-arm64"));

    private NativePlatform() {
    }

    /** The platform as seen by this JVM, e.g. {@code linux-x64}, {@code linux-musl-arm64}, {@code osx-arm64}. */
    static String current() {
        String os = System.getProperty("os.name", "");
        return rid(os, System.getProperty("os.arch", ""), isLinux(os) && MuslDetection.isMusl());
    }

    /**
     * The runtime id for these values: {@code <os>[-musl]-<arch>} with os one of
     * linux, osx, win and arch one of x64, arm64; anything else keeps a readable
     * name (e.g. {@code freebsd-x64}, {@code linux-x86}) that is not in {@link #SUPPORTED}.
     */
    static String rid(String osName, String osArch, boolean musl) {
        String os = osName.toLowerCase(Locale.ROOT);
        String o = isLinux(osName) ? (musl ? "linux-musl" : "linux")
                : os.startsWith("mac") || os.contains("darwin") || os.contains("os x") ? "osx"
                : os.startsWith("windows") ? "win"
                : os.replaceAll("[^a-z0-9]", "");
        String arch = osArch.toLowerCase(Locale.ROOT);
        String a = arch.equals("amd64") || arch.equals("x86_64") || arch.equals("x64") ? "x64"
                : arch.equals("aarch64") || arch.equals("arm64") ? "arm64"
                : arch.equals("x86") || arch.equals("i386") || arch.equals("i686") ? "x86"
                : arch.replaceAll("[^a-z0-9_]", "");
        return (o.isEmpty() ? "unknown" : o) + "-" + (a.isEmpty() ? "unknown" : a);
    }

    static boolean isSupported(String rid) {
        return SUPPORTED.contains(rid);
    }

    /** The library's file name on that platform. */
    static String fileName(String rid) {
        if (rid.startsWith("win-")) {
            return "paytrim_auth.dll";
        }
        if (rid.startsWith("osx-")) {
            return "libpaytrim_auth.dylib";
        }
        return "libpaytrim_auth.so";
    }

    /** The jar resource holding that platform's library (no leading slash). */
    static String resource(String rid) {
        return "native/" + rid + "/" + fileName(rid);
    }

    /** The supported platforms whose library this class loader can see as a resource. */
    static List<String> present(ClassLoader loader) {
        List<String> out = new ArrayList<>();
        for (String rid : SUPPORTED) {
            if (loader != null && loader.getResource(resource(rid)) != null) {
                out.add(rid);
            }
        }
        return out;
    }

    /**
     * The message for a jar without this platform's library, or a platform no
     * release supports: names the platform, the platforms present and the way out.
     */
    static String missingMessage(String rid, String osName, String osArch, List<String> present, String libraryPathError) {
        StringBuilder m = new StringBuilder("paytrim-auth: no native library for this platform, ").append(rid)
                .append(" (os.name=").append(osName).append(", os.arch=").append(osArch).append(")");
        if (!isSupported(rid)) {
            m.append(", which paytrim-auth does not support (supported: ").append(String.join(", ", SUPPORTED)).append(")");
        }
        m.append(". This jar holds native libraries for: ")
                .append(present.isEmpty() ? "none (it was built without one)" : String.join(", ", present))
                .append("; and ").append(fileName(rid)).append(" is not on java.library.path (")
                .append(libraryPathError).append("). ");
        if (isSupported(rid)) {
            m.append("Use the release jar (it carries every platform), or build the library (cargo build --release in the"
                    + " paytrim-auth repository) and rebuild the jar (scripts/package.sh or mvn package), or set -D")
                    .append(NativeBridge.LIBRARY_PROPERTY).append("=/absolute/path/to/").append(fileName(rid)).append('.');
        } else {
            m.append("Build libpaytrim_auth for this platform yourself and set -D").append(NativeBridge.LIBRARY_PROPERTY)
                    .append("=/absolute/path/to/it.");
        }
        return m.toString();
    }

    private static boolean isLinux(String osName) {
        return osName.toLowerCase(Locale.ROOT).startsWith("linux");
    }

    /** musl or glibc, on Linux: the JVM's own dynamic loader says which. */
    static final class MuslDetection {
        private MuslDetection() {
        }

        static boolean isMusl() {
            // The process maps its C library: /lib/ld-musl-<arch>.so.1 (or libc.musl-*) on musl.
            try {
                for (String line : java.nio.file.Files.readAllLines(new File("/proc/self/maps").toPath(),
                        java.nio.charset.StandardCharsets.ISO_8859_1)) {
                    if (mapsLineIsMusl(line)) {
                        return true;
                    }
                    if (line.contains("/libc.so.6") || line.contains("/ld-linux")) {
                        return false;
                    }
                }
            } catch (Exception | Error ignored) {
                // No /proc: fall back to the loader's file.
            }
            File[] lib = new File("/lib").listFiles((d, n) -> n.startsWith("ld-musl-"));
            return lib != null && lib.length > 0;
        }

        static boolean mapsLineIsMusl(String line) {
            return line.contains("ld-musl-") || line.contains("libc.musl-");
        }
    }
}
