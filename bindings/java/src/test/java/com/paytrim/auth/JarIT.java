package com.paytrim.auth;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;

import static org.junit.jupiter.api.Assertions.*;

/** Runs against the packaged jar (mvn verify), in child JVMs. */
class JarIT {
    private final Emulator emu = Emulator.shared();

    static File jar() {
        File f = new File(System.getProperty("paytrim.jar"));
        assertTrue(f.isFile(), "packaged jar " + f);
        return f;
    }

    static String java() {
        return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    }

    static final class Result {
        int exit;
        String stdout;
        String stderr;
    }

    static Result run(File dir, Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir);
        pb.environment().keySet().removeIf(k -> k.startsWith("PAYTRIM_") || k.equals("CLASSPATH") || k.equals("JAVA_TOOL_OPTIONS"));
        if (env != null) {
            pb.environment().putAll(env);
        }
        Path err = Files.createTempFile("paytrim-it-", ".err");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        Result r = new Result();
        r.stdout = Emulator.read(p.getInputStream());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished");
        r.exit = p.exitValue();
        r.stderr = new String(Files.readAllBytes(err), java.nio.charset.StandardCharsets.UTF_8);
        Files.delete(err);
        return r;
    }

    @Test
    void jarCarriesTheNativeLibraryAndTheExample() throws Exception {
        try (JarFile j = new JarFile(jar())) {
            assertNotNull(j.getEntry("native/linux-x64/libpaytrim_auth.so"), "native library in the jar");
            assertNotNull(j.getEntry("com/paytrim/auth/examples/GetToken.class"));
            assertNotNull(j.getEntry("com/paytrim/auth/PaytrimAuthClient.class"));
            assertEquals(52, classMajor(j, "com/paytrim/auth/PaytrimAuthClient.class"), "compiled for Java 8");
        }
    }

    private static int classMajor(JarFile j, String entry) throws Exception {
        try (java.io.DataInputStream in = new java.io.DataInputStream(j.getInputStream(j.getEntry(entry)))) {
            in.readInt();
            in.readUnsignedShort();
            return in.readUnsignedShort();
        }
    }

    @Test
    void exampleRunsFromTheJarAloneInAnEmptyDirectory() throws Exception {
        Path dir = Files.createTempDirectory("paytrim-jar-alone-");
        String id = emu.newClient("jar-secret");
        Map<String, String> env = new java.util.HashMap<>();
        env.put("PAYTRIM_CLIENT_ID", id);
        env.put("PAYTRIM_CLIENT_SECRET", "jar-secret");
        env.put("PAYTRIM_TENANT_ID", "contoso.onmicrosoft.com");
        env.put("PAYTRIM_SCOPE", "api://paytrim/.default");
        env.put("PAYTRIM_AUTHORITY_HOST", emu.https);
        env.put("PAYTRIM_TOKEN_URL", "");
        env.put("PAYTRIM_CA_FILE", emu.caFile);
        try {
            Path copy = dir.resolve("paytrim-auth.jar");
            Files.copy(jar().toPath(), copy);
            Result r = run(dir.toFile(), env, java(), "-cp", "paytrim-auth.jar", "com.paytrim.auth.examples.GetToken");
            assertEquals(0, r.exit, r.stderr);
            JsonObject o = JsonParser.parseString(r.stdout.trim()).getAsJsonObject();
            assertEquals("Bearer", o.get("token_type").getAsString());
            assertTrue(o.get("expires_in").getAsLong() > 3000);
            assertFalse(o.get("access_token").getAsString().isEmpty());
            assertEquals(1, emu.requestsFor(id).size());
            assertEquals("api://paytrim/.default",
                    emu.requestsFor(id).get(0).getAsJsonObject("form").get("scope").getAsString());
            assertFalse(r.stderr.contains("jar-secret"));
            // Only the jar is in the directory afterwards (the library's temp copy is not left around here).
            assertEquals(Arrays.asList("paytrim-auth.jar"), list(dir));
        } finally {
            for (String f : list(dir)) {
                Files.delete(dir.resolve(f));
            }
            Files.delete(dir);
        }
    }

    private static List<String> list(Path dir) {
        List<String> names = new ArrayList<>(Arrays.asList(dir.toFile().list()));
        java.util.Collections.sort(names);
        return names;
    }

    @Test
    void everyJniPathIsCleanUnderXcheckJni() throws Exception {
        String cp = jar().getAbsolutePath() + File.pathSeparator + System.getProperty("paytrim.test.classes");
        Result r = run(new File("."), null, java(), "-Xcheck:jni", "-cp", cp, "com.paytrim.auth.JniExercise",
                emu.https, emu.http, emu.caFile);
        String all = r.stdout + r.stderr;
        assertEquals(0, r.exit, all);
        assertTrue(r.stdout.contains("JNI-EXERCISE OK"), all);
        assertFalse(all.toLowerCase(java.util.Locale.ROOT).contains("warning"), "JNI warnings:\n" + all);
        assertFalse(all.contains("FATAL ERROR"), all);
    }

    @Test
    void aLibraryWithoutJniGlueIsRefusedClearly() throws Exception {
        File libz = new File("/lib/x86_64-linux-gnu/libz.so.1");
        org.junit.jupiter.api.Assumptions.assumeTrue(libz.isFile());
        // GetToken exits 2 without credentials before it loads anything, so it gets some:
        // the failure below can only come from loading the library.
        Map<String, String> env = new java.util.HashMap<>();
        env.put("PAYTRIM_CLIENT_ID", "id");
        env.put("PAYTRIM_CLIENT_SECRET", "secret");
        Result r = run(new File("."), env, java(), "-Dpaytrim.auth.library=" + libz.getPath(),
                "-cp", jar().getAbsolutePath(), "com.paytrim.auth.examples.GetToken");
        assertNotEquals(0, r.exit, r.stderr);
        assertNotEquals(2, r.exit, "exited for missing credentials, not for the library: " + r.stderr);
        assertTrue(r.stderr.contains("the native library loaded from " + libz.getPath() + " has no JNI glue"), r.stderr);
        r = run(new File("."), env, java(), "-Dpaytrim.auth.library=relative/libpaytrim_auth.so",
                "-cp", jar().getAbsolutePath(), "com.paytrim.auth.examples.GetToken");
        assertNotEquals(0, r.exit, r.stderr);
        assertTrue(r.stderr.contains("must be an absolute path"), r.stderr);
    }
}
