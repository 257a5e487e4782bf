package com.paytrim.auth;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two class loaders in one JVM (an application server with two web
 * applications, a plugin host), each loading the wrapper's jar, with the
 * native library from each of its three sources; and two applications below
 * one shared loader. What a user gets (README, "Runtime models"): every loader
 * works; loaders that load the jar themselves each get their own native
 * library instance and cache (one token request each); a shared loader gives
 * one instance and one request.
 */
class ClassLoaderIT {
    private final Emulator emu = Emulator.shared();

    private JarIT.Result twoLoaders(File jar, String mode, String... jvmOptions) throws Exception {
        String id = emu.newClient("loader-secret");
        java.util.List<String> cmd = new java.util.ArrayList<>();
        cmd.add(JarIT.java());
        cmd.addAll(java.util.Arrays.asList(jvmOptions));
        cmd.add("-cp");
        cmd.add(System.getProperty("paytrim.test.classes"));
        cmd.add("com.paytrim.auth.TwoLoaders");
        for (String a : new String[] {jar.getAbsolutePath(), emu.https, emu.caFile, id, "loader-secret", mode}) {
            cmd.add(a);
        }
        JarIT.Result r = JarIT.run(new File("."), null, cmd.toArray(new String[0]));
        String all = r.stdout + r.stderr;
        assertEquals(0, r.exit, all);
        assertTrue(r.stdout.contains("TWO LOADERS OK"), all);
        assertTrue(r.stdout.contains("loader0.error=CREDENTIAL_REJECTED"), all);
        assertTrue(r.stdout.contains("loader1.error=CREDENTIAL_REJECTED"), all);
        assertFalse(all.contains("loader-secret"), all);
        // Token requests with the right secret (the wrong one was sent once per loader too).
        long good = emu.requestsFor(id).stream()
                .filter(q -> "loader-secret".equals(q.getAsJsonObject("form").get("client_secret").getAsString()))
                .count();
        r.stdout += "good_requests=" + good + "\n";
        System.out.println("== " + mode + " " + String.join(" ", jvmOptions) + "\n" + r.stdout);
        return r;
    }

    private static String line(JarIT.Result r, String key) {
        for (String l : r.stdout.split("\n")) {
            if (l.startsWith(key + "=")) {
                return l.substring(key.length() + 1);
            }
        }
        throw new AssertionError(key + " not in\n" + r.stdout);
    }

    /** Each loader gets its own instance: a token each, one request each. */
    private static void assertSeparate(JarIT.Result r, String secondSource) {
        assertEquals("2", line(r, "good_requests"), "one request per class loader");
        assertEquals("false", line(r, "same_token"));
        assertTrue(line(r, "loader1.source").contains(secondSource), line(r, "loader1.source"));
    }

    @Test
    void librayFromTheSystemPropertyInTwoLoaders() throws Exception {
        String lib = System.getProperty("paytrim.native.lib");
        JarIT.Result r = twoLoaders(JarIT.jar(), "separate", "-Dpaytrim.auth.library=" + lib);
        assertEquals(lib, line(r, "loader0.source"));
        assertSeparate(r, "(a private copy for this class loader");
    }

    @Test
    void libraryFromJavaLibraryPathInTwoLoaders() throws Exception {
        File lib = new File(System.getProperty("paytrim.native.lib"));
        File jar = jarWithoutNativeLibrary();
        try {
            JarIT.Result r = twoLoaders(jar, "separate", "-Djava.library.path=" + lib.getParent());
            assertTrue(line(r, "loader0.source").startsWith("java.library.path"), line(r, "loader0.source"));
            assertSeparate(r, lib.getPath() + " (a private copy for this class loader");
        } finally {
            Files.delete(jar.toPath());
        }
    }

    @Test
    void libraryFromTheJarInTwoLoaders() throws Exception {
        JarIT.Result r = twoLoaders(JarIT.jar(), "separate");
        assertTrue(line(r, "loader0.source").startsWith("jar resource"), line(r, "loader0.source"));
        assertSeparate(r, "(a private copy for this class loader");
    }

    @Test
    void oneSharedLoaderGivesOneLibraryAndOneCache() throws Exception {
        JarIT.Result r = twoLoaders(JarIT.jar(), "shared");
        assertEquals("1", line(r, "good_requests"), "one request for both applications");
        assertEquals("true", line(r, "same_token"));
    }

    /** The packaged jar minus native/: the library then comes from java.library.path. */
    static File jarWithoutNativeLibrary() throws Exception {
        File out = Files.createTempFile("paytrim-auth-nonative-", ".jar").toFile();
        try (JarFile in = new JarFile(JarIT.jar());
             JarOutputStream jo = new JarOutputStream(new FileOutputStream(out), in.getManifest())) {
            Enumeration<JarEntry> es = in.entries();
            byte[] buf = new byte[65536];
            while (es.hasMoreElements()) {
                JarEntry e = es.nextElement();
                if (e.getName().startsWith("native/") || e.getName().equals("META-INF/MANIFEST.MF")) {
                    continue;
                }
                jo.putNextEntry(new JarEntry(e.getName()));
                try (InputStream is = in.getInputStream(e)) {
                    int n;
                    while ((n = is.read(buf)) > 0) {
                        jo.write(buf, 0, n);
                    }
                }
                jo.closeEntry();
            }
        }
        return out;
    }
}
