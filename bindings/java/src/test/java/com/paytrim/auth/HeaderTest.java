package com.paytrim.auth;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The wrapper's error codes and ABI version must match include/paytrim_auth.h. */
class HeaderTest {
    static File header() {
        String root = System.getProperty("paytrim.repo.root", "../..");
        return new File(root, "include/paytrim_auth.h");
    }

    @Test
    void errorCodesAndAbiVersionMatchTheHeader() throws Exception {
        String h = new String(Files.readAllBytes(header().toPath()), StandardCharsets.UTF_8);
        Map<String, Integer> codes = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^#define PAYTRIM_AUTH_ERROR_([A-Z_]+) (\\d+)\\s*$").matcher(h);
        while (m.find()) {
            codes.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        assertEquals(PaytrimAuthErrorCode.values().length, codes.size(), "codes in header: " + codes);
        for (PaytrimAuthErrorCode c : PaytrimAuthErrorCode.values()) {
            assertEquals(codes.get(c.name()), Integer.valueOf(c.value()), c.name());
            assertEquals(c.name().toLowerCase(java.util.Locale.ROOT), c.nativeName());
        }
        Matcher abi = Pattern.compile("(?m)^#define PAYTRIM_AUTH_ABI_VERSION (\\d+)\\s*$").matcher(h);
        assertTrue(abi.find(), "PAYTRIM_AUTH_ABI_VERSION in header");
        assertEquals(Integer.parseInt(abi.group(1)), PaytrimAuthClient.ABI_VERSION);
        assertEquals(PaytrimAuthClient.ABI_VERSION, NativeBridge.abiVersion(), "loaded library");
    }

    @Test
    void theHeaderHasNoJniSymbols() throws Exception {
        String h = new String(Files.readAllBytes(header().toPath()), StandardCharsets.UTF_8);
        assertFalse(h.contains("Java_"), "JNI exports must not leak into the C header");
        assertFalse(h.contains("JNIEnv"));
    }
}
