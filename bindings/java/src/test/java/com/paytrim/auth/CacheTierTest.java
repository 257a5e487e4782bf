package com.paytrim.auth;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/** The cache tiers from Java: the Builder passes the keys through, and JVMs share a token on one host. */
class CacheTierTest {
    private static final Emulator emu = Emulator.shared();

    private ChildJvm.Result child(String id, String secret, Path dir) throws Exception {
        return ChildJvm.run(CacheTierMain.class,
                "TIER_CLIENT_ID", id, "TIER_SECRET", secret, "TIER_AUTHORITY", emu.https, "TIER_CA_FILE", emu.caFile,
                "TIER_CACHE_DIR", dir == null ? null : dir.toString());
    }

    @Test
    void aSecondJvmGetsItsTokenFromTheOnHostTier() throws Exception {
        String secret = "tier-secret";
        String id = emu.newClient(secret);
        Path dir = Files.createTempDirectory("paytrim-java-tier").resolve("cache");
        ChildJvm.Result first = child(id, secret, dir);
        assertEquals(0, first.status, first.output);
        ChildJvm.Result second = child(id, secret, dir);
        assertEquals(0, second.status, second.output);
        assertEquals(1, emu.requestsFor(id).size(), "two JVMs, one request");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    @Test
    void unsafeDirectoriesAndBadRedisUrlsAreRefusedAtBuild() throws Exception {
        String id = emu.newClient("s");
        Path dir = Files.createTempDirectory("paytrim-java-unsafe");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        PaytrimAuthException e = assertThrows(PaytrimAuthException.class, () -> emu.builder(id, "s").cacheDir(dir).build());
        assertTrue(e.getMessage().contains("writable by group or others"), e.getMessage());
        PaytrimAuthException bad = assertThrows(PaytrimAuthException.class,
                () -> emu.builder(id, "s").redisUrl("http://127.0.0.1:6379").build());
        assertTrue(bad.getMessage().contains("redis_url"), bad.getMessage());
        // Nothing listens on port 1: the Redis tier is a miss, the token still comes.
        try (PaytrimAuthClient c = emu.builder(id, "s").redisUrl("redis://127.0.0.1:1").redisKeyPrefix("java:")
                .redisTimeout(Duration.ofMillis(50)).build()) {
            assertFalse(c.getToken().getToken().isEmpty());
        }
    }
}
