using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    /// <summary>The cache tiers from C#: the options reach the library, and processes share a token on one host.</summary>
    [TestFixture]
    public class CacheTierTests
    {
        private static Emulator Emu { get { return Emulator.Current; } }

        private static string TempDir(string tag)
        {
            string d = Path.Combine(Path.GetTempPath(), "paytrim-cs-" + tag + "-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(d);
            return d;
        }

        private static string RunEnvProbe(out int exitCode, params string[] vars)
        {
            string probe = Environment.GetEnvironmentVariable("PAYTRIM_CS_ENV_PROBE");
            if (string.IsNullOrEmpty(probe)) Assert.Ignore("PAYTRIM_CS_ENV_PROBE not set (test.sh builds it)");
            var psi = new ProcessStartInfo("mono", "\"" + probe + "\"")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                WorkingDirectory = Path.GetDirectoryName(probe),
            };
            var env = psi.EnvironmentVariables;
            foreach (string k in env.Keys.Cast<string>().ToList())
            {
                if (k.StartsWith("PAYTRIM_") || k.StartsWith("AZURE_") || k.ToLowerInvariant().EndsWith("_proxy")) env.Remove(k);
            }
            for (int i = 0; i + 1 < vars.Length; i += 2) env[vars[i]] = vars[i + 1];
            using (var p = Process.Start(psi))
            {
                string output = p.StandardOutput.ReadToEnd();
                Assert.IsTrue(p.WaitForExit(60000));
                exitCode = p.ExitCode;
                return output;
            }
        }

        [Test]
        public void AnotherProcessGetsTheTokenFromTheOnHostTierWithoutARequest()
        {
            var c = Emu.NewClient();
            string dir = Path.Combine(TempDir("tier"), "cache");
            var opts = Emu.Options();
            opts.CacheDir = dir;
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, opts))
            {
                Assert.IsNotEmpty(client.GetToken().Token);
            }
            Assert.AreEqual(1, Emu.CountFor(c.Id));
            // A child process (its own in-process cache) with the same key and PAYTRIM_CACHE_DIR.
            int code;
            string output = RunEnvProbe(out code,
                "PAYTRIM_CLIENT_ID", c.Id,
                "PAYTRIM_CLIENT_SECRET", c.Secret,
                "PAYTRIM_TENANT_ID", opts.Tenant,
                "PAYTRIM_AUTHORITY_HOST", Emu.Https,
                "PAYTRIM_CA_FILE", Emu.CaFile,
                "PAYTRIM_CACHE_DIR", dir);
            Assert.AreEqual(0, code, output);
            StringAssert.Contains("token-length=", output);
            Assert.AreEqual(1, Emu.CountFor(c.Id), "the child read the on-host tier");
        }

        [Test]
        public void UnsafeDirectoriesAndBadRedisUrlsAreRefused()
        {
            var c = Emu.NewClient();
            string dir = TempDir("unsafe");
            var chmod = Process.Start("chmod", "777 \"" + dir + "\"");
            chmod.WaitForExit();
            var opts = Emu.Options();
            opts.CacheDir = dir;
            var e = Assert.Throws<PaytrimAuthException>(() => new PaytrimAuthClient(c.Id, c.Secret, opts).Dispose());
            StringAssert.Contains("writable by group or others", e.Message);
            opts = Emu.Options();
            opts.RedisUrl = "http://127.0.0.1:6379";
            e = Assert.Throws<PaytrimAuthException>(() => new PaytrimAuthClient(c.Id, c.Secret, opts).Dispose());
            StringAssert.Contains("redis_url", e.Message);
            // Nothing listens on port 1: the Redis tier is a miss, the token still comes.
            opts = Emu.Options();
            opts.RedisUrl = "redis://127.0.0.1:1";
            opts.RedisKeyPrefix = "cs:";
            opts.RedisTimeout = TimeSpan.FromMilliseconds(50);
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, opts))
            {
                Assert.IsNotEmpty(client.GetToken().Token);
            }
        }
    }
}
