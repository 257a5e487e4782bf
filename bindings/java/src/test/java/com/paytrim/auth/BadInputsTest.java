package com.paytrim.auth;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The shared bad-input table (tests/bad_inputs.tsv), Java's rows: each case
 * fails with its error code (PaytrimAuthException INVALID_ARGUMENT, or an
 * IllegalArgumentException raised by the wrapper before the native call) and
 * the message names the offending key or argument; use after close is an
 * IllegalStateException; nothing crashes the JVM.
 */
class BadInputsTest {
    private final Emulator emu = Emulator.shared();

    static final class Row {
        String id, op, arg, value, code, names, langs;
    }

    static List<Row> rows() throws IOException {
        Path table = Paths.get(System.getProperty("paytrim.repo.root", "../.."), "tests", "bad_inputs.tsv");
        List<Row> rows = new ArrayList<>();
        boolean header = true;
        for (String line : Files.readAllLines(table, StandardCharsets.UTF_8)) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] c = line.split("\t", -1);
            assertEquals(7, c.length, "malformed row: " + line);
            if (header) {
                assertEquals(Arrays.asList("id", "op", "arg", "value", "code", "names", "langs"), Arrays.asList(c));
                header = false;
                continue;
            }
            Row r = new Row();
            r.id = c[0]; r.op = c[1]; r.arg = c[2]; r.value = c[3]; r.code = c[4]; r.names = c[5]; r.langs = c[6];
            Set<String> langs = new HashSet<>(Arrays.asList(r.langs.split(" ")));
            if (langs.contains("all") || langs.contains("wrappers") || langs.contains("java")) {
                rows.add(r);
            }
        }
        return rows;
    }

    static String decode(String v) {
        if (v.equals("<null>")) {
            return null;
        }
        if (v.equals("<empty>")) {
            return "";
        }
        if (v.startsWith("<repeat:")) {
            String body = v.substring(8, v.length() - 1);
            int colon = body.lastIndexOf(':');
            StringBuilder b = new StringBuilder();
            for (int i = Integer.parseInt(body.substring(colon + 1)); i > 0; i--) {
                b.append(body, 0, colon);
            }
            return b.toString();
        }
        if (v.startsWith("<lone_surrogate:")) {
            return v.substring(16, v.length() - 1) + "\uD800";
        }
        if (v.startsWith("<hex:")) {
            throw new IllegalArgumentException("raw bytes are C-only: " + v);
        }
        return v.replace("\\n", "\n");
    }

    private static String camel(String snake) {
        StringBuilder b = new StringBuilder();
        boolean up = false;
        for (char ch : snake.toCharArray()) {
            if (ch == '_') {
                up = true;
            } else {
                b.append(up ? Character.toUpperCase(ch) : ch);
                up = false;
            }
        }
        return b.toString();
    }

    private static void assertRefused(Row r, Runnable call) {
        RuntimeException e = assertThrows(RuntimeException.class, call::run, r.id + ": no error");
        if (e instanceof PaytrimAuthException) {
            assertEquals(PaytrimAuthErrorCode.INVALID_ARGUMENT, ((PaytrimAuthException) e).getCode(), r.id + ": " + e);
        } else {
            assertTrue(e instanceof IllegalArgumentException, r.id + ": " + e);
        }
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        assertTrue(m.contains(r.names.toLowerCase(Locale.ROOT)) || m.contains(camel(r.names).toLowerCase(Locale.ROOT)),
                r.id + ": the message does not name " + r.names + ": " + e.getMessage());
        assertTrue(m.length() < 4096, r.id + ": a " + m.length() + "-character message");
    }

    @Test
    void theTableHasJavaRowsForEveryKindOfBadInput() throws IOException {
        List<Row> rows = rows();
        assertTrue(rows.size() >= 25, rows.size() + " rows");
        for (String op : Arrays.asList("config_set", "client_new", "lifecycle")) {
            assertTrue(rows.stream().anyMatch(r -> r.op.equals(op)), op);
        }
    }

    @TestFactory
    List<DynamicTest> eachRow() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Row r : rows()) {
            tests.add(DynamicTest.dynamicTest(r.id + ": " + r.op + " " + r.arg + " -> " + r.code, () -> run(r)));
        }
        return tests;
    }

    private void run(Row r) throws Exception {
        String secret = "bad-inputs-secret";
        String id = emu.newClient(secret);
        switch (r.op) {
            case "config_set":
                assertRefused(r, () -> emu.builder(id, secret).option(r.arg, decode(r.value)).build().close());
                break;
            case "client_new":
                String v = decode(r.value);
                boolean isId = r.arg.equals("client_id");
                assertRefused(r, () -> emu.builder(isId ? v : id, isId ? secret : v).build().close());
                break;
            case "lifecycle":
                runLifecycle(r, emu.builder(id, secret).build());
                break;
            default:
                fail("no Java runner for " + r.op);
        }
    }

    private void runLifecycle(Row r, PaytrimAuthClient client) throws Exception {
        switch (r.arg) {
            case "use_after_close": {
                client.close();
                IllegalStateException e = assertThrows(IllegalStateException.class, client::getToken);
                assertTrue(e.getMessage().toLowerCase(Locale.ROOT).contains(r.names), e.getMessage());
                assertThrows(IllegalStateException.class, client::getTokenAsync);
                break;
            }
            case "double_close":
                client.close();
                client.close();
                assertTrue(client.isClosed());
                assertThrows(IllegalStateException.class, client::getToken);
                break;
            case "close_during_fetch": {
                emu.fault("{\"kind\":\"stall\",\"ms\":700}");
                CompletableFuture<AccessToken> pending = client.getTokenAsync();
                client.close();
                // The call in flight completes (with its token, or as closed); nothing crashes.
                try {
                    AccessToken t = pending.get(60, TimeUnit.SECONDS);
                    assertFalse(t.getToken().isEmpty());
                } catch (ExecutionException e) {
                    assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
                }
                break;
            }
            default:
                fail("no Java runner for lifecycle " + r.arg);
        }
    }
}
