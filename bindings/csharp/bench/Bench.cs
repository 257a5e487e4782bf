// Cache-hit cost of PaytrimAuthClient.GetToken() under Mono (not part of the tests).
// Usage: mono Bench.exe   with PAYTRIM_CLIENT_ID/SECRET/AUTHORITY_HOST/CA_FILE/TENANT_ID pointing
// at the emulator (run-bench.sh does that).
using System;
using System.Diagnostics;
using Paytrim.Auth;

class Bench
{
    static string Env(string name)
    {
        string v = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(v) ? null : v;
    }

    static void Main(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0]) : 1000000;
        var options = new PaytrimAuthOptions
        {
            Tenant = Env("PAYTRIM_TENANT_ID"),
            AuthorityHost = Env("PAYTRIM_AUTHORITY_HOST"),
            CaFile = Env("PAYTRIM_CA_FILE"),
        };
        using (var client = new PaytrimAuthClient(Env("PAYTRIM_CLIENT_ID"), Env("PAYTRIM_CLIENT_SECRET"), options))
        {
            int len = client.GetToken().Token.Length; // fetch once
            Console.WriteLine("native " + PaytrimAuthLibrary.Version + ", token length " + len);
            for (int i = 0; i < 200000; i++) client.GetToken(); // warm up (JIT, caches)
            for (int round = 0; round < 5; round++)
            {
                var sw = Stopwatch.StartNew();
                long sum = 0;
                for (int i = 0; i < n; i++) sum += client.GetToken().Token.Length;
                sw.Stop();
                double ns = sw.Elapsed.TotalMilliseconds * 1e6 / n;
                Console.WriteLine(string.Format("GetToken() cache hit: {0:F0} ns/call ({1} calls, check {2})", ns, n, sum / n));
            }
            for (int round = 0; round < 3; round++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < n; i++) client.GetTokenAsync().GetAwaiter().GetResult();
                sw.Stop();
                Console.WriteLine(string.Format("GetTokenAsync() cache hit: {0:F0} ns/call", sw.Elapsed.TotalMilliseconds * 1e6 / n));
            }
        }
    }
}
