package com.paytrim.auth.azure;

import com.azure.core.credential.TokenCredential;
import com.azure.core.credential.TokenRequestContext;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpPipelineBuilder;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.core.http.policy.BearerTokenAuthenticationPolicy;
import com.azure.core.util.Context;
import com.paytrim.auth.PaytrimAuthClient;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.BufferedReader;
import java.io.File;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * azure-core's own BearerTokenAuthenticationPolicy, in an HttpPipeline with azure-core's JDK
 * HttpClient, calls a local HTTPS server that records the Authorization header; the token comes
 * from the emulator through paytrim-auth, for the policy's scopes.
 */
class BearerPolicyTest {
    private static Process emulator;
    private static String https, caFile, clientId, clientSecret;
    private static HttpsServer api;
    private static SSLContext trustApi;
    private static final List<String> seen = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        emulator = new ProcessBuilder(System.getProperty("paytrim.emulator"), "--exit-on-stdin-eof")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String ready = new BufferedReader(new InputStreamReader(emulator.getInputStream(), StandardCharsets.UTF_8)).readLine();
        https = field(ready, "https");
        caFile = field(ready, "ca_file");
        clientId = field(ready, "client_id");
        clientSecret = field(ready, "client_secret");

        // The API server: a key pair and self-signed certificate for localhost, made now.
        Path dir = Files.createTempDirectory("paytrim-azure");
        File ks = dir.resolve("api.p12").toFile();
        Process keytool = new ProcessBuilder(new File(System.getProperty("java.home"), "bin/keytool").getPath(),
                "-genkeypair", "-alias", "api", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12",
                "-keystore", ks.getPath(), "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        assertEquals(0, keytool.waitFor(), new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(ks)) {
            store.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "changeit".toCharArray());
        SSLContext serverSsl = SSLContext.getInstance("TLS");
        serverSsl.init(kmf.getKeyManagers(), null, null);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        trustApi = SSLContext.getInstance("TLS");
        trustApi.init(null, tmf.getTrustManagers(), null);

        api = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        api.setHttpsConfigurator(new HttpsConfigurator(serverSsl));
        api.createContext("/", exchange -> {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            seen.add(auth == null ? "(none)" : auth);
            byte[] body = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        api.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (api != null) api.stop(0);
        if (emulator != null) {
            emulator.getOutputStream().close();
            emulator.waitFor();
        }
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }

    private static String aud(String bearer) {
        String jwt = bearer.substring("Bearer ".length());
        String payload = new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8);
        return field(payload, "aud");
    }

    private static HttpPipeline pipeline(TokenCredential credential, String... scopes) {
        return new HttpPipelineBuilder()
                .httpClient(new JdkHttpClientBuilder(java.net.http.HttpClient.newBuilder().sslContext(trustApi)).build())
                .policies(new BearerTokenAuthenticationPolicy(credential, scopes))
                .build();
    }

    private static int call(HttpPipeline pipeline, String path) {
        String url = "https://localhost:" + api.getAddress().getPort() + path;
        try (HttpResponse r = pipeline.sendSync(new HttpRequest(HttpMethod.GET, url), Context.NONE)) {
            return r.getStatusCode();
        }
    }

    @Test
    void theBearerPolicySendsOurTokenForItsScopes() {
        seen.clear();
        try (PaytrimAuthClient client = PaytrimAuthClient.builder(clientId, clientSecret)
                .tenant("contoso.onmicrosoft.com").authorityHost(https).caFile(caFile).build()) {
            TokenCredential credential = new PaytrimTokenCredential(client);
            HttpPipeline vault = pipeline(credential, "api://vault/.default");
            HttpPipeline storage = pipeline(credential, "api://storage/.default");
            assertEquals(200, call(vault, "/secrets/a"));
            assertEquals(200, call(vault, "/secrets/b"));
            assertEquals(200, call(storage, "/blobs/c"));
            assertEquals(3, seen.size(), seen.toString());
            assertEquals("api://vault", aud(seen.get(0)));
            assertEquals(seen.get(0), seen.get(1), "the policy's second call: same token");
            assertEquals("api://storage", aud(seen.get(2)));
            // The tokens are the library's cached ones for those scope sets.
            assertEquals("Bearer " + client.getTokenForScopes("api://vault/.default").getToken(), seen.get(0));
            assertEquals("Bearer " + client.getTokenForScopes("api://storage/.default").getToken(), seen.get(2));
        }
    }

    @Test
    void asyncAndSyncPathsOfTheCredential() {
        try (PaytrimAuthClient client = PaytrimAuthClient.builder(clientId, clientSecret)
                .tenant("contoso.onmicrosoft.com").authorityHost(https).caFile(caFile).build()) {
            PaytrimTokenCredential credential = new PaytrimTokenCredential(client);
            TokenRequestContext ctx = new TokenRequestContext().addScopes("api://async/.default");
            com.azure.core.credential.AccessToken a = credential.getToken(ctx).block();
            assertNotNull(a);
            assertEquals("api://async", aud("Bearer " + a.getToken()));
            assertEquals(a.getToken(), credential.getTokenSync(ctx).getToken());
            assertFalse(a.isExpired());
            assertThrows(RuntimeException.class,
                    () -> credential.getToken(new TokenRequestContext()).block(), "no scopes: an error, not a hang");
        }
    }
}
