package com.paytrim.auth;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The packaged jar's loader in child JVMs: the library is extracted once into
 * the cache directory and reused; a jar without this platform's library fails
 * with a message naming the platform, what the jar holds and the way out.
 */
class NativeLoadIT {
    /** Prints where the library came from: PaytrimAuthClient.nativeLibrarySource(). */
    private static JarIT.Result source(File jar, String... jvmOptions) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>();
        cmd.add(JarIT.java());
        cmd.addAll(java.util.Arrays.asList(jvmOptions));
        cmd.add("-cp");
        cmd.add(jar.getAbsolutePath() + File.pathSeparator + System.getProperty("paytrim.test.classes"));
        cmd.add("com.paytrim.auth.PrintNativeSource");
        return JarIT.run(new File("."), null, cmd.toArray(new String[0]));
    }

    @Test
    void theJarsLibraryIsExtractedOnceIntoThePrivateCacheAndReused() throws Exception {
        Path cache = Files.createTempDirectory("paytrim-cache-it-");
        try {
            JarIT.Result first = source(JarIT.jar(), "-Dpaytrim.auth.cache.dir=" + cache);
            assertEquals(0, first.exit, first.stdout + first.stderr);
            String prefix = "source=jar resource /native/linux-x64/libpaytrim_auth.so (extracted to " + cache + "/paytrim-auth/";
            assertTrue(first.stdout.startsWith(prefix), first.stdout);
            String out = first.stdout.trim();
            Path lib = new File(out.substring(out.indexOf("(extracted to ") + "(extracted to ".length(), out.length() - 1)).toPath();
            assertTrue(Files.isRegularFile(lib), lib.toString());
            assertTrue(lib.toString().contains("/paytrim-auth/0.1.0-"), lib.toString());
            for (Path d = lib.getParent(); !d.equals(cache); d = d.getParent()) {
                assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)), d.toString());
            }
            long mtime = Files.getLastModifiedTime(lib).toMillis() - 120_000;
            Files.setLastModifiedTime(lib, java.nio.file.attribute.FileTime.fromMillis(mtime));
            JarIT.Result second = source(JarIT.jar(), "-Dpaytrim.auth.cache.dir=" + cache);
            assertEquals(0, second.exit, second.stdout + second.stderr);
            assertEquals(first.stdout, second.stdout, "the same file");
            assertEquals(mtime, Files.getLastModifiedTime(lib).toMillis(), "reused, not written again");
        } finally {
            NativePlatformTest.deleteTree(cache);
        }
    }

    @Test
    void aJarWithoutThisPlatformSaysWhatIsMissingAndHowToFixIt() throws Exception {
        File jar = ClassLoaderIT.jarWithoutNativeLibrary();
        try {
            JarIT.Result r = source(jar, "-Djava.library.path=/nonexistent");
            assertEquals(3, r.exit, r.stdout + r.stderr);
            assertTrue(r.stdout.contains("java.lang.UnsatisfiedLinkError: paytrim-auth: no native library for this platform, linux-x64"
                    + " (os.name=Linux, os.arch=amd64)"), r.stdout);
            assertTrue(r.stdout.contains("This jar holds native libraries for: none (it was built without one)"), r.stdout);
            assertTrue(r.stdout.contains("cargo build --release"), r.stdout);
            assertTrue(r.stdout.contains("-Dpaytrim.auth.library=/absolute/path/to/libpaytrim_auth.so"), r.stdout);
        } finally {
            Files.delete(jar.toPath());
        }
    }
}
