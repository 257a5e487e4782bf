package com.paytrim.auth;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a main class of the test classpath in a child JVM with a clean environment plus the given variables. */
final class ChildJvm {
    static final class Result {
        final int status;
        final String output;

        Result(int status, String output) {
            this.status = status;
            this.output = output;
        }
    }

    static Result run(Class<?> main, String... vars) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("-D" + NativeBridge.LIBRARY_PROPERTY + "=" + System.getProperty(NativeBridge.LIBRARY_PROPERTY));
        cmd.add(main.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("PAYTRIM_") || k.startsWith("AZURE_") || k.startsWith("IDENTITY_")
                || k.startsWith("IMDS_") || k.toLowerCase().endsWith("_proxy"));
        for (int i = 0; i + 1 < vars.length; i += 2) {
            env.put(vars[i], vars[i + 1]);
        }
        Process p = pb.start();
        String out = Emulator.read(p.getInputStream());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("child JVM did not finish: " + out);
        }
        return new Result(p.exitValue(), out);
    }
}
