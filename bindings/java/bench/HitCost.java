import com.paytrim.auth.PaytrimAuthClient;

/**
 * Cache-hit cost of PaytrimAuthClient.getToken() from Java: a warmed loop,
 * best of 5 rounds. Configured from PAYTRIM_* variables (bench/run.sh sets
 * them from the emulator it starts). A benchmark: it measures, it asserts nothing.
 */
public final class HitCost {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 500_000;
        PaytrimAuthClient.Builder b = PaytrimAuthClient.builder(
                System.getenv("PAYTRIM_CLIENT_ID"), System.getenv("PAYTRIM_CLIENT_SECRET"))
                .authorityHost(System.getenv("PAYTRIM_AUTHORITY_HOST"))
                .tenant(System.getenv("PAYTRIM_TENANT_ID"))
                .caFile(System.getenv("PAYTRIM_CA_FILE"));
        try (PaytrimAuthClient c = b.build()) {
            long sink = c.getToken().getToken().length();
            for (int i = 0; i < 300_000; i++) { // warm-up: let the JIT compile the path
                sink += c.getToken().getToken().length();
            }
            double best = Double.MAX_VALUE;
            for (int round = 0; round < 5; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    sink += c.getToken().getToken().length();
                }
                double per = (System.nanoTime() - t0) / (double) n;
                best = Math.min(best, per);
                System.out.printf("round %d: %.0f ns/call%n", round + 1, per);
            }
            double json = Double.MAX_VALUE;
            for (int round = 0; round < 3; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 100_000; i++) {
                    sink += c.getTokenJson().length();
                }
                json = Math.min(json, (System.nanoTime() - t0) / 100_000.0);
            }
            System.out.printf("JSON form: %.0f ns/call (best of 3 x 100000)%n", json);
            System.out.printf("getToken() cache hit: %.0f ns/call (best of 5 x %d, warmed; JDK %s; checksum %d)%n",
                    best, n, System.getProperty("java.version"), sink % 7);
        }
    }
}
