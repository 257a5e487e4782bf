package com.paytrim.auth;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The Java-side token JSON (the virtual-thread fallback of getTokenJson) matches the native format. */
class TokenJsonTest {
    @Test
    void sameShapeAsTheNativeSideWithEscapes() {
        long in90s = System.currentTimeMillis() + 90_500;
        String json = PaytrimAuthClient.tokenJson(new AccessToken("a\"b\\c", in90s));
        assertTrue(json.matches("\\{\"token_type\":\"Bearer\",\"expires_in\":(89|90),\"access_token\":\"a\\\\\"b\\\\\\\\c\"\\}"), json);
        String expired = PaytrimAuthClient.tokenJson(new AccessToken("t", System.currentTimeMillis() - 5_000));
        assertEquals("{\"token_type\":\"Bearer\",\"expires_in\":0,\"access_token\":\"t\"}", expired);
    }
}
