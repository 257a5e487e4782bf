package com.paytrim.auth;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The loader's platform resolution and extraction cache, driven with simulated platforms. */
class NativePlatformTest {
    @Test
    void everySupportedPlatformResolvesFromJvmProperties() {
        // os.name / os.arch as the JVMs of each platform report them.
        assertEquals("linux-x64", NativePlatform.rid("Linux", "amd64", false));
        assertEquals("linux-arm64", NativePlatform.rid("Linux", "aarch64", false));
        assertEquals("linux-musl-x64", NativePlatform.rid("Linux", "amd64", true));
        assertEquals("linux-musl-arm64", NativePlatform.rid("Linux", "aarch64", true));
        assertEquals("osx-x64", NativePlatform.rid("Mac OS X", "x86_64", false));
        assertEquals("osx-arm64", NativePlatform.rid("Mac OS X", "aarch64", false));
        assertEquals("win-x64", NativePlatform.rid("Windows 11", "amd64", false));
        assertEquals("win-arm64", NativePlatform.rid("Windows Server 2022", "aarch64", false));
        // musl only matters on Linux.
        assertEquals("osx-arm64", NativePlatform.rid("Mac OS X", "aarch64", true));
        for (String rid : NativePlatform.SUPPORTED) {
            assertTrue(NativePlatform.isSupported(rid), rid);
        }
    }

    @Test
    void fileNamePerOperatingSystem() {
        assertEquals("native/linux-musl-arm64/libpaytrim_auth.so", NativePlatform.resource("linux-musl-arm64"));
        assertEquals("native/osx-arm64/libpaytrim_auth.dylib", NativePlatform.resource("osx-arm64"));
        assertEquals("native/osx-x64/libpaytrim_auth.dylib", NativePlatform.resource("osx-x64"));
        assertEquals("native/win-x64/paytrim_auth.dll", NativePlatform.resource("win-x64"));
        assertEquals("native/win-arm64/paytrim_auth.dll", NativePlatform.resource("win-arm64"));
        assertEquals("native/linux-x64/libpaytrim_auth.so", NativePlatform.resource("linux-x64"));
    }

    @Test
    void unsupportedPlatformsAreNamedNotGuessed() {
        assertEquals("freebsd-x64", NativePlatform.rid("FreeBSD", "amd64", false));
        assertEquals("linux-x86", NativePlatform.rid("Linux", "i386", false));
        assertEquals("linux-ppc64le", NativePlatform.rid("Linux", "ppc64le", false));
        assertFalse(NativePlatform.isSupported("freebsd-x64"));
        assertFalse(NativePlatform.isSupported("linux-x86"));
        String m = NativePlatform.missingMessage("freebsd-x64", "FreeBSD", "amd64", Arrays.asList("linux-x64", "osx-arm64"),
                "no paytrim_auth in java.library.path");
        assertTrue(m.contains("freebsd-x64"), m);
        assertTrue(m.contains("os.name=FreeBSD"), m);
        assertTrue(m.contains("does not support"), m);
        assertTrue(m.contains("This jar holds native libraries for: linux-x64, osx-arm64"), m);
    }

    @Test
    void aJarWithoutThisPlatformSaysWhichItHasAndHowToFixIt() {
        String m = NativePlatform.missingMessage("linux-musl-arm64", "Linux", "aarch64", Collections.singletonList("linux-x64"),
                "no paytrim_auth in java.library.path");
        assertTrue(m.contains("linux-musl-arm64"), m);
        assertTrue(m.contains("This jar holds native libraries for: linux-x64;"), m);
        assertTrue(m.contains("cargo build --release"), m);
        assertTrue(m.contains("-Dpaytrim.auth.library="), m);
        assertFalse(m.contains("does not support"), m);
        String none = NativePlatform.missingMessage("linux-x64", "Linux", "amd64", Collections.<String>emptyList(), "x");
        assertTrue(none.contains("none (it was built without one)"), none);
    }

    @Test
    void theResourcesPresentAreFoundPerPlatform() throws Exception {
        Path dir = Files.createTempDirectory("paytrim-natives-");
        try {
            for (String rid : new String[] {"osx-arm64", "win-x64"}) {
                Path f = dir.resolve(NativePlatform.resource(rid));
                Files.createDirectories(f.getParent());
                Files.write(f, new byte[] {1});
            }
            // A file with another OS's name in a folder does not count.
            Path wrong = dir.resolve("native/linux-arm64/paytrim_auth.dll");
            Files.createDirectories(wrong.getParent());
            Files.write(wrong, new byte[] {1});
            try (java.net.URLClassLoader l = new java.net.URLClassLoader(new java.net.URL[] {dir.toUri().toURL()}, null)) {
                assertEquals(Arrays.asList("osx-arm64", "win-x64"), NativePlatform.present(l));
            }
        } finally {
            deleteTree(dir);
        }
    }

    @Test
    void muslIsRecognisedInTheProcessMaps() {
        assertTrue(NativePlatform.MuslDetection.mapsLineIsMusl(
                "7f1c2a000000-7f1c2a014000 r--p 00000000 08:01 123 /lib/ld-musl-x86_64.so.1"));
        assertTrue(NativePlatform.MuslDetection.mapsLineIsMusl("7f00-7f01 r-xp 0 0:0 1 /usr/lib/libc.musl-aarch64.so.1"));
        assertFalse(NativePlatform.MuslDetection.mapsLineIsMusl("7f00-7f01 r-xp 0 0:0 1 /usr/lib/x86_64-linux-gnu/libc.so.6"));
        // This machine (Debian, glibc) runs the linux-x64 path end to end.
        assertFalse(NativePlatform.MuslDetection.isMusl());
        assertEquals("linux-x64", NativePlatform.current());
    }

    @Test
    void cacheDirectoryPerOperatingSystem() {
        assertEquals(Arrays.asList(new File("/home/u/.cache").toPath(), new File("/tmp/paytrim-auth-u").toPath()),
                NativeCache.bases("Linux", "/home/u", null, null, "/tmp", "u", null));
        assertEquals(new File("/xdg").toPath(), NativeCache.bases("Linux", "/home/u", "/xdg", null, "/tmp", "u", null).get(0));
        // A relative XDG_CACHE_HOME is ignored, as the XDG spec says.
        assertEquals(new File("/home/u/.cache").toPath(),
                NativeCache.bases("Linux", "/home/u", "rel", null, "/tmp", "u", null).get(0));
        assertEquals(new File("/Users/u/Library/Caches").toPath(),
                NativeCache.bases("Mac OS X", "/Users/u", null, null, "/tmp", "u", null).get(0));
        assertEquals(new File("/appdata/local").toPath(),
                NativeCache.bases("Windows 11", "/users/u", null, "/appdata/local", "/tmp", "u", null).get(0));
        // No home (user.home "?"): the temporary directory, per user.
        assertEquals(Collections.singletonList(new File("/tmp/paytrim-auth-a_b").toPath()),
                NativeCache.bases("Linux", "?", null, null, "/tmp", "a/b", null));
        // The system property wins alone.
        assertEquals(Collections.singletonList(new File("/opt/c").toPath()),
                NativeCache.bases("Linux", "/home/u", null, null, "/tmp", "u", "/opt/c"));
    }

    @Test
    void extractedOncePrivateAndReused() throws Exception {
        Path base = Files.createTempDirectory("paytrim-cache-");
        try {
            NativeCache.Blob blob = new NativeCache.Blob("library bytes".getBytes("UTF-8"));
            List<String> refusals = new ArrayList<>();
            Path f = NativeCache.extract(Collections.singletonList(base), "1.2.3", "linux-x64", "libpaytrim_auth.so", blob, refusals);
            assertNotNull(f, refusals.toString());
            assertEquals(base.resolve("paytrim-auth/1.2.3-" + blob.sha256.substring(0, 16) + "/linux-x64/libpaytrim_auth.so"), f);
            assertArrayEquals(blob.bytes, Files.readAllBytes(f));
            for (Path d = f.getParent(); !d.equals(base); d = d.getParent()) {
                assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)), d.toString());
            }
            // Reused as is: same file, not rewritten.
            long mtime = Files.getLastModifiedTime(f).toMillis();
            Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(mtime - 60_000));
            assertEquals(f, NativeCache.extract(Collections.singletonList(base), "1.2.3", "linux-x64", "libpaytrim_auth.so", blob, refusals));
            assertEquals(mtime - 60_000, Files.getLastModifiedTime(f).toMillis(), "a matching copy is not rewritten");
            // A damaged copy is replaced.
            Files.write(f, "tampered".getBytes("UTF-8"));
            assertEquals(f, NativeCache.extract(Collections.singletonList(base), "1.2.3", "linux-x64", "libpaytrim_auth.so", blob, refusals));
            assertArrayEquals(blob.bytes, Files.readAllBytes(f));
            // Other content (another build of the same version): another directory.
            NativeCache.Blob other = new NativeCache.Blob("other bytes".getBytes("UTF-8"));
            Path g = NativeCache.extract(Collections.singletonList(base), "1.2.3", "linux-x64", "libpaytrim_auth.so", other, refusals);
            assertNotEquals(f.getParent(), g.getParent());
            // No temporary files left behind.
            try (java.util.stream.Stream<Path> s = Files.list(f.getParent())) {
                assertEquals(1, s.count());
            }
            assertTrue(refusals.isEmpty(), refusals.toString());
        } finally {
            deleteTree(base);
        }
    }

    @Test
    void anUnsafeOrUnwritableDirectoryFallsBackToTheNextOne() throws Exception {
        Path base = Files.createTempDirectory("paytrim-cache-");
        try {
            NativeCache.Blob blob = new NativeCache.Blob(new byte[] {7, 7});
            // A world-writable base (someone else could swap our folder) is refused, not re-permissioned.
            Path open = Files.createDirectory(base.resolve("open"));
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
            // A base whose paytrim-auth entry is a symbolic link is refused.
            Path linked = Files.createDirectory(base.resolve("linked"));
            Files.createSymbolicLink(linked.resolve("paytrim-auth"), Files.createDirectory(base.resolve("elsewhere")));
            // A base that is a file cannot be used.
            Path file = Files.write(base.resolve("file"), new byte[0]);
            Path good = base.resolve("good");
            List<String> refusals = new ArrayList<>();
            Path f = NativeCache.extract(Arrays.asList(open, linked, file, good), null, "linux-x64", "libpaytrim_auth.so", blob, refusals);
            assertNotNull(f, refusals.toString());
            assertTrue(f.startsWith(good.resolve("paytrim-auth/dev-" + blob.sha256.substring(0, 16))), f.toString());
            assertEquals(3, refusals.size(), refusals.toString());
            assertTrue(refusals.get(0).contains("writable by others"), refusals.get(0));
            assertTrue(refusals.get(1).contains("symbolic link"), refusals.get(1));
            assertEquals("rwxrwxrwx", PosixFilePermissions.toString(Files.getPosixFilePermissions(open)));
            // A group-writable folder of ours inside the cache is tightened back to 0700.
            Path tag = f.getParent().getParent();
            Files.setPosixFilePermissions(tag, PosixFilePermissions.fromString("rwxrwx---"));
            assertEquals(f, NativeCache.extract(Collections.singletonList(good), null, "linux-x64", "libpaytrim_auth.so", blob, refusals));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tag)));
            // Nothing usable at all: null, and every reason.
            refusals.clear();
            assertNull(NativeCache.extract(Collections.singletonList(file), null, "linux-x64", "libpaytrim_auth.so", blob, refusals));
            assertEquals(1, refusals.size());
        } finally {
            deleteTree(base);
        }
    }

    static void deleteTree(Path p) throws Exception {
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
            try (java.util.stream.Stream<Path> s = Files.list(p)) {
                for (Path c : (Iterable<Path>) s::iterator) {
                    deleteTree(c);
                }
            }
        }
        Files.deleteIfExists(p);
    }
}
