package com.paytrim.auth;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The JNI glue lives in the same .so as the C ABI and must not link libjvm. */
class NativeLinkTest {
    static File lib() {
        return new File(System.getProperty(NativeBridge.LIBRARY_PROPERTY));
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = Emulator.read(p.getInputStream());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    @Test
    void libraryDoesNotDependOnLibjvm() throws Exception {
        String needed = run("readelf", "-d", lib().getAbsolutePath());
        assertTrue(needed.contains("NEEDED"), needed);
        assertFalse(needed.contains("libjvm"), needed);
        assertFalse(needed.contains("libjava"), needed);
    }

    @Test
    void plainCLoadsTheSameLibraryWithoutAJvm() throws Exception {
        File cc = new File("/usr/bin/cc");
        Assumptions.assumeTrue(cc.canExecute(), "no C compiler");
        File src = new File("src/test/c/load_without_jvm.c");
        File exe = Files.createTempFile("paytrim-load-", ".bin").toFile();
        try {
            run(cc.getPath(), "-Wall", "-Wextra", "-Werror", "-o", exe.getPath(), src.getPath(), "-ldl");
            String out = run(exe.getPath(), lib().getAbsolutePath());
            assertTrue(out.startsWith("abi=" + PaytrimAuthClient.ABI_VERSION + " "), out);
            assertTrue(out.contains("jni=present"), out);
        } finally {
            exe.delete();
        }
    }
}
