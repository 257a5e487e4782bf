package com.paytrim.auth;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;

/**
 * Run by ClassLoaderIT in a child JVM, the way an application server or a
 * plugin host loads the wrapper: two class loaders, each given the wrapper's
 * jar ("separate"), or two application loaders below one shared loader that
 * holds the jar ("shared"). Each gets a token for the same credentials, a token
 * on the asynchronous path, and an error, all through reflection.
 *
 * <p>Arguments: jar https caFile clientId secret (separate|shared). Prints
 * {@code name=value} lines; never a token.
 */
public final class TwoLoaders {
    public static void main(String[] args) throws Exception {
        URL jar = new File(args[0]).toURI().toURL();
        String https = args[1], caFile = args[2], id = args[3], secret = args[4];
        boolean shared = args[5].equals("shared");
        // Not the application class path: the loaders see only the jar.
        ClassLoader platform = ClassLoader.getSystemClassLoader().getParent();
        ClassLoader[] apps = new ClassLoader[2];
        ClassLoader common = shared ? new URLClassLoader(new URL[] {jar}, platform) : null;
        for (int i = 0; i < 2; i++) {
            apps[i] = shared ? new URLClassLoader(new URL[0], common) : new URLClassLoader(new URL[] {jar}, platform);
        }
        String[] tokens = new String[2];
        for (int i = 0; i < 2; i++) {
            Class<?> client = apps[i].loadClass("com.paytrim.auth.PaytrimAuthClient");
            if (client.getClassLoader() == TwoLoaders.class.getClassLoader()) {
                throw new AssertionError("the wrapper came from the test class path, not from the loader");
            }
            System.out.println("loader" + i + ".source=" + client.getMethod("nativeLibrarySource").invoke(null));
            Object c = build(client, https, caFile, id, secret);
            Object token = client.getMethod("getToken").invoke(c);
            tokens[i] = (String) token.getClass().getMethod("getToken").invoke(token);
            // The asynchronous path calls back into this loader's classes.
            Object future = client.getMethod("getTokenAsync").invoke(c);
            Object t2 = future.getClass().getMethod("get").invoke(future);
            check(tokens[i].equals(t2.getClass().getMethod("getToken").invoke(t2)), "async token of loader " + i);
            // Errors are this loader's PaytrimAuthException.
            Object bad = build(client, https, caFile, id, "wrong-" + secret);
            try {
                bad.getClass().getMethod("getToken").invoke(bad);
                throw new AssertionError("a wrong secret was accepted");
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                check(cause.getClass().getName().equals("com.paytrim.auth.PaytrimAuthException"), "exception " + cause);
                check(cause.getClass().getClassLoader() == client.getClassLoader(),
                        "the exception class comes from the caller's loader");
                System.out.println("loader" + i + ".error=" + cause.getClass().getMethod("getCode").invoke(cause));
            }
            close(bad);
            close(c);
        }
        System.out.println("same_token=" + tokens[0].equals(tokens[1]));
        System.out.println("TWO LOADERS OK");
    }

    private static Object build(Class<?> client, String https, String caFile, String id, String secret)
            throws Exception {
        Object b = client.getMethod("builder", String.class, String.class).invoke(null, id, secret);
        Class<?> bc = b.getClass();
        bc.getMethod("authorityHost", String.class).invoke(b, https);
        bc.getMethod("caFile", String.class).invoke(b, caFile);
        bc.getMethod("tenant", String.class).invoke(b, "contoso.onmicrosoft.com");
        bc.getMethod("noProxy").invoke(b);
        bc.getMethod("maxAttempts", int.class).invoke(b, 1);
        return bc.getMethod("build").invoke(b);
    }

    private static void close(Object c) throws Exception {
        Method m = c.getClass().getMethod("close");
        m.invoke(c);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
