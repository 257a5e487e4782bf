package com.paytrim.auth;

/** Run in a child JVM by AbiMismatchTest: builds a client and prints what loading the library threw. */
public final class AbiProbeMain {
    public static void main(String[] args) {
        try {
            PaytrimAuthClient.builder("id", "secret").build().close();
            System.out.println("LOADED");
        } catch (Throwable t) {
            System.out.println(t.getClass().getName() + ": " + t.getMessage());
            System.exit(3);
        }
    }
}
