package com.paytrim.auth;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The loader refuses a native library that implements another ABI version, with a message
 * naming both versions and where the library came from. The library is a test-only
 * stand-in (src/test/c/other_abi_jni.c) whose JNI glue answers ABI version 99.
 */
class AbiMismatchTest {
    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = Emulator.read(p.getInputStream());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "finished: " + String.join(" ", cmd));
        return p.exitValue() + ":" + out;
    }

    @Test
    void aLibraryWithAnotherAbiVersionIsRefusedWithBothVersions() throws Exception {
        File cc = new File("/usr/bin/cc");
        Assumptions.assumeTrue(cc.canExecute(), "no C compiler");
        Path dir = Files.createTempDirectory("paytrim-abi-");
        Path lib = dir.resolve("libpaytrim_auth.so");
        try {
            String built = run(cc.getPath(), "-shared", "-fPIC", "-Wall", "-Werror", "-o", lib.toString(),
                    "src/test/c/other_abi_jni.c");
            assertTrue(built.startsWith("0:"), built);
            String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
            String out = run(java, "-cp", System.getProperty("java.class.path"),
                    "-D" + NativeBridge.LIBRARY_PROPERTY + "=" + lib, AbiProbeMain.class.getName());
            assertTrue(out.startsWith("3:java.lang.UnsatisfiedLinkError: "), out);
            assertTrue(out.contains("implements ABI version 99"), out);
            assertTrue(out.contains("needs ABI version " + PaytrimAuthClient.ABI_VERSION), out);
            assertTrue(out.contains(lib.toString()), "names the library it loaded: " + out);
        } finally {
            Files.deleteIfExists(lib);
            Files.delete(dir);
        }
    }

    @Test
    void theRealLibraryLoadsInTheSameProbe() throws Exception {
        // The probe itself works: with the library under test it gets past loading.
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        String out = run(java, "-cp", System.getProperty("java.class.path"),
                "-D" + NativeBridge.LIBRARY_PROPERTY + "=" + System.getProperty(NativeBridge.LIBRARY_PROPERTY),
                AbiProbeMain.class.getName());
        assertEquals("0:LOADED\n", out);
    }
}
