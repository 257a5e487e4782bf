package com.paytrim.auth;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The project's Entra emulator, started once per test JVM (stdin piped, with
 * --exit-on-stdin-eof, so it dies with us), plus its control API.
 */
final class Emulator {
    private static Emulator shared;

    final Process process;
    final String https;
    final String http;
    final String caFile;
    final String defaultClientId;
    final String defaultClientSecret;
    final String imdsEndpoint;
    final String identityEndpoint;
    final String identityHeader;

    static synchronized Emulator shared() {
        if (shared == null) {
            shared = start();
            final Emulator e = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(e::stop));
        }
        return shared;
    }

    static String binary() {
        String path = System.getProperty("paytrim.emulator", System.getenv("PAYTRIM_EMULATOR"));
        if (path == null || !new File(path).canExecute()) {
            throw new IllegalStateException("emulator binary not found: " + path + " (set PAYTRIM_EMULATOR)");
        }
        return path;
    }

    /** A new emulator of its own; {@code args} are extra command-line options (e.g. --dns-name NAME). */
    static Emulator start(String... args) {
        try {
            List<String> cmd = new ArrayList<>();
            cmd.add(binary());
            cmd.add("--exit-on-stdin-eof");
            cmd.addAll(java.util.Arrays.asList(args));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.redirectError(ProcessBuilder.Redirect.INHERIT);
            Process p = pb.start();
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = r.readLine();
            if (line == null) {
                p.destroyForcibly();
                throw new IllegalStateException("emulator exited before printing its ready line");
            }
            return new Emulator(p, JsonParser.parseString(line).getAsJsonObject());
        } catch (IOException e) {
            throw new IllegalStateException("could not start the emulator", e);
        }
    }

    private Emulator(Process p, JsonObject ready) {
        this.process = p;
        this.https = ready.get("https").getAsString();
        this.http = ready.get("http").getAsString();
        this.caFile = ready.get("ca_file").getAsString();
        this.defaultClientId = ready.get("client_id").getAsString();
        this.defaultClientSecret = ready.get("client_secret").getAsString();
        this.imdsEndpoint = ready.get("imds_endpoint").getAsString();
        this.identityEndpoint = ready.get("identity_endpoint").getAsString();
        this.identityHeader = ready.get("identity_header").getAsString();
    }

    void stop() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (Exception e) {
            process.destroyForcibly();
        }
    }

    /** A fresh client id, registered with {@code secret}: isolates the token cache and the request count. */
    String newClient(String secret) {
        String id = UUID.randomUUID().toString();
        JsonObject o = new JsonObject();
        o.addProperty("client_id", id);
        o.addProperty("client_secret", secret);
        o.addProperty("expired", false);
        post("/_emulator/clients", o.toString());
        return id;
    }

    /** A fresh client id, registered with the certificate in {@code certPem}. */
    String newCertificateClient(String certPem) {
        String id = UUID.randomUUID().toString();
        JsonObject o = new JsonObject();
        o.addProperty("client_id", id);
        o.addProperty("certificate_pem", certPem);
        post("/_emulator/clients", o.toString());
        return id;
    }

    /** A fresh client id accepting federated tokens with this issuer and subject. */
    String newFederatedClient(String issuer, String subject) {
        String id = UUID.randomUUID().toString();
        JsonObject o = new JsonObject();
        o.addProperty("client_id", id);
        o.addProperty("federated_issuer", issuer);
        o.addProperty("federated_subject", subject);
        post("/_emulator/clients", o.toString());
        return id;
    }

    /** Requests the managed-identity endpoints received since the last reset. */
    int managedIdentityRequests() {
        return JsonParser.parseString(get("/_emulator/managed_identity")).getAsJsonObject().get("requests").getAsInt();
    }

    /** A builder for a fresh registered client against the Entra-flavoured HTTPS endpoint. */
    PaytrimAuthClient.Builder builder(String clientId) {
        return PaytrimAuthClient.builder(clientId)
                .authorityHost(https)
                .caFile(caFile)
                .tenant("contoso.onmicrosoft.com")
                .noProxy();
    }

    PaytrimAuthClient.Builder builder(String clientId, String secret) {
        return PaytrimAuthClient.builder(clientId, secret)
                .authorityHost(https)
                .caFile(caFile)
                .tenant("contoso.onmicrosoft.com")
                .noProxy();
    }

    int tokenRequests() {
        return JsonParser.parseString(get("/_emulator/stats")).getAsJsonObject().get("token_requests").getAsInt();
    }

    List<JsonObject> requests() {
        JsonArray a = JsonParser.parseString(get("/_emulator/requests")).getAsJsonArray();
        List<JsonObject> out = new ArrayList<>();
        for (JsonElement e : a) {
            out.add(e.getAsJsonObject());
        }
        return out;
    }

    /** Recorded token requests made for {@code clientId} (form field or Basic header). */
    List<JsonObject> requestsFor(String clientId) {
        List<JsonObject> out = new ArrayList<>();
        for (JsonObject r : requests()) {
            JsonObject form = r.getAsJsonObject("form");
            String formId = form != null && form.has("client_id") ? form.get("client_id").getAsString() : null;
            JsonElement basic = r.get("basic_client_id");
            String basicId = basic != null && !basic.isJsonNull() ? basic.getAsString() : null;
            if (clientId.equals(formId) || clientId.equals(basicId)) {
                out.add(r);
            }
        }
        return out;
    }

    void fault(String json) {
        post("/_emulator/faults", json);
    }

    void config(String json) {
        post("/_emulator/config", json);
    }

    /** Clears counters, requests, faults and knobs (clients stay). */
    void reset() {
        post("/_emulator/reset", "{}");
    }

    String get(String path) {
        return call("GET", path, null);
    }

    String post(String path, String body) {
        return call("POST", path, body);
    }

    private String call(String method, String path, String body) {
        try {
            HttpURLConnection c = (HttpURLConnection) new URL(http + path).openConnection();
            c.setRequestMethod(method);
            if (body != null) {
                c.setDoOutput(true);
                c.setRequestProperty("Content-Type", "application/json");
                try (OutputStream os = c.getOutputStream()) {
                    os.write(body.getBytes(StandardCharsets.UTF_8));
                }
            }
            int status = c.getResponseCode();
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            String text = read(in);
            if (status != 200) {
                throw new IllegalStateException(method + " " + path + " -> " + status + ": " + text);
            }
            return text;
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + " failed", e);
        }
    }

    static String read(InputStream in) throws IOException {
        if (in == null) {
            return "";
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            b.write(buf, 0, n);
        }
        in.close();
        return new String(b.toByteArray(), StandardCharsets.UTF_8);
    }
}
