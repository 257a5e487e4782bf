package com.paytrim.auth;

/** Child-JVM main for NativeLoadIT: where the native library came from, or the load error (exit 3). */
public final class PrintNativeSource {
    private PrintNativeSource() {
    }

    public static void main(String[] args) {
        try {
            System.out.println("source=" + PaytrimAuthClient.nativeLibrarySource());
        } catch (UnsatisfiedLinkError e) {
            System.out.println(e);
            System.exit(3);
        }
    }
}
