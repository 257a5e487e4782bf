package com.paytrim.auth;

/** Run in a child JVM by CredentialsTest: PaytrimAuthClient.fromEnvironment() with the environment it was given. */
public final class EnvironmentMain {
    public static void main(String[] args) {
        try (PaytrimAuthClient c = PaytrimAuthClient.fromEnvironment()) {
            System.out.println("token-length=" + c.getToken().getToken().length());
        } catch (PaytrimAuthException e) {
            System.out.println(e.getCode() + ": " + e.getMessage());
            System.exit(2);
        }
    }
}
