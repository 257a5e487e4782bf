package com.paytrim.auth;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * An RSA key and self-signed certificate made at run time with the openssl
 * command line, in PEM, PKCS#12 and encrypted-PKCS#8 forms, and a signer of
 * client assertions with the JDK's own crypto (for the assertion-callback tests).
 */
final class TestCerts {
    final Path dir;
    final Path certPem;
    final Path keyPem;
    final Path combinedPem;
    final Path pfx;
    final Path encryptedPem;
    static final String PASSWORD = "pfx pässword";

    private TestCerts(Path dir) {
        this.dir = dir;
        this.certPem = dir.resolve("cert.pem");
        this.keyPem = dir.resolve("key.pem");
        this.combinedPem = dir.resolve("combined.pem");
        this.pfx = dir.resolve("client.pfx");
        this.encryptedPem = dir.resolve("encrypted.pem");
    }

    static TestCerts generate() {
        try {
            Path dir = Files.createTempDirectory("paytrim-java-certs-");
            dir.toFile().deleteOnExit();
            TestCerts c = new TestCerts(dir);
            openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
                    "-days", "2", "-subj", "/CN=paytrim-java-test");
            String combined = c.text(c.certPem) + c.text(c.keyPem);
            Files.write(c.combinedPem, combined.getBytes(StandardCharsets.UTF_8));
            openssl(dir, "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-out", "client.pfx",
                    "-passout", "pass:" + PASSWORD);
            openssl(dir, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "key.pem", "-out", "enc-key.pem",
                    "-passout", "pass:" + PASSWORD);
            Files.write(c.encryptedPem, (c.text(c.certPem) + c.text(dir.resolve("enc-key.pem")))
                    .getBytes(StandardCharsets.UTF_8));
            for (File f : dir.toFile().listFiles()) {
                f.deleteOnExit();
            }
            return c;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("could not make a test certificate with openssl", e);
        }
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        Process p = pb.start();
        String out = Emulator.read(p.getInputStream());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("openssl " + String.join(" ", args) + " failed: " + out);
        }
    }

    String text(Path p) {
        try {
            return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    X509Certificate certificate() throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(certPem)));
    }

    PrivateKey privateKey() throws Exception {
        String pem = text(keyPem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
    }

    /** An RS256 client assertion signed with java.security, as an HSM-backed provider would make it. */
    String signAssertion(AssertionRequest r) throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        byte[] der = certificate().getEncoded();
        String thumb = b64.encodeToString(MessageDigest.getInstance("SHA-256").digest(der));
        long now = System.currentTimeMillis() / 1000;
        String header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t#S256\":\"" + thumb + "\"}";
        String claims = "{\"aud\":\"" + r.getAudience() + "\",\"iss\":\"" + r.getClientId() + "\",\"sub\":\""
                + r.getClientId() + "\",\"jti\":\"" + UUID.randomUUID() + "\",\"iat\":" + now + ",\"nbf\":" + now
                + ",\"exp\":" + (now + 600) + "}";
        String input = b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(privateKey());
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + b64.encodeToString(s.sign());
    }
}
