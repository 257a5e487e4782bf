package com.paytrim.auth;

/** How a certificate credential signs its client assertions. */
public enum SigningAlgorithm {
    /** RSASSA-PSS with SHA-256 (the default; what Entra recommends). */
    PS256,
    /** RSASSA-PKCS1-v1_5 with SHA-256; the header also carries {@code x5t} (SHA-1 thumbprint). */
    RS256
}
