package com.paytrim.auth;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One error text in every language (tests/error_texts.tsv): each failure of the shared table
 * gives, as getMessage(), the text C, C# and Node give for it (authority URL and UUIDs
 * normalized), and toString() is the class name and that text: every id exactly once.
 */
class ErrorTextTest {
    private static final String REFUSED = "https://127.0.0.1:1";
    private static final String UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    private final Emulator emu = Emulator.shared();

    static List<String[]> rows() throws IOException {
        Path table = Paths.get(System.getProperty("paytrim.repo.root", "../.."), "tests", "error_texts.tsv");
        List<String[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(table, StandardCharsets.UTF_8)) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] c = line.split("\t", -1);
            assertEquals(6, c.length, "malformed row: " + line);
            rows.add(c);
        }
        assertEquals(Arrays.asList("id", "tenant", "secret", "authority", "ca_file", "text"), Arrays.asList(rows.remove(0)));
        assertFalse(rows.isEmpty());
        return rows;
    }

    static String normalize(String text, String authority) {
        return text.replace(authority, "{authority}").replaceAll(UUID, "{uuid}");
    }

    @TestFactory
    List<DynamicTest> eachFailureReadsTheSameAsInEveryLanguage() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String[] r : rows()) {
            tests.add(DynamicTest.dynamicTest(r[0], () -> {
                String authority = r[3].equals("refused") ? REFUSED : emu.https;
                PaytrimAuthClient.Builder b = PaytrimAuthClient.builder("11111111-1111-1111-1111-111111111111", r[2])
                        .tenant(r[1]).authorityHost(authority).maxAttempts(1);
                if (r[4].equals("yes")) {
                    b.caFile(emu.caFile);
                }
                PaytrimAuthException e;
                try (PaytrimAuthClient client = b.build()) {
                    e = assertThrows(PaytrimAuthException.class, client::getToken);
                }
                assertEquals(r[5], normalize(e.getMessage(), authority));
                assertEquals("com.paytrim.auth.PaytrimAuthException: " + r[5], normalize(e.toString(), authority));
            }));
        }
        return tests;
    }
}
