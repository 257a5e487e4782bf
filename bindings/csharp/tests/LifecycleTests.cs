using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    [TestFixture]
    public class LifecycleTests
    {
        private static Emulator Emu { get { return Emulator.Current; } }

        [TearDown]
        public void RestoreKnobs()
        {
            Emu.Post("/_emulator/reset", "{}");
        }

        [Test]
        public void NullIdOrSecretThrowsArgumentNull()
        {
            Assert.Throws<ArgumentNullException>(() => new PaytrimAuthClient(null, "secret"));
            Assert.Throws<ArgumentNullException>(() => new PaytrimAuthClient("id", null));
            Assert.Throws<ArgumentNullException>(() => new PaytrimAuthClient(null, null, new PaytrimAuthOptions()));
        }

        [Test]
        public void EmptyIdOrSecretIsInvalidArgument()
        {
            var e1 = Assert.Throws<PaytrimAuthException>(() => new PaytrimAuthClient("", "secret"));
            Assert.AreEqual(PaytrimAuthErrorCode.InvalidArgument, e1.ErrorCode);
            StringAssert.Contains("client_id", e1.Message);
            var e2 = Assert.Throws<PaytrimAuthException>(() => new PaytrimAuthClient("id", ""));
            Assert.AreEqual(PaytrimAuthErrorCode.InvalidArgument, e2.ErrorCode);
            StringAssert.Contains("client_secret", e2.Message);
            var e3 = Assert.Throws<PaytrimAuthException>(() => new PaytrimAuthClient("   ", "secret"));
            Assert.AreEqual(PaytrimAuthErrorCode.InvalidArgument, e3.ErrorCode);
        }

        [Test]
        public void UnknownOptionIsInvalidArgumentNamingTheKey()
        {
            var opts = new PaytrimAuthOptions().Set("no_such_option", "1");
            var e = Assert.Throws<PaytrimAuthException>(() => new PaytrimAuthClient("id", "secret", opts));
            Assert.AreEqual(PaytrimAuthErrorCode.InvalidArgument, e.ErrorCode);
            StringAssert.Contains("no_such_option", e.Message);
            Assert.Throws<ArgumentNullException>(() => new PaytrimAuthOptions().Set(null, "x"));
        }

        [Test]
        public void SetEscapeHatchReachesTheCore()
        {
            var c = Emu.NewClient();
            var opts = Emu.Options();
            opts.Tenant = null;
            opts.Set("tenant", "contoso.onmicrosoft.com");
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, opts))
            {
                client.GetToken();
            }
            Assert.AreEqual("/contoso.onmicrosoft.com/oauth2/v2.0/token", Emu.RequestsFor(c.Id).Single()["path"]);
        }

        [Test]
        public void NonAsciiStringsAreUtf8()
        {
            // A secret with non-ASCII characters goes out as UTF-8 (then form-encoded).
            var c = new Creds { Id = Guid.NewGuid().ToString(), Secret = "sécret-ü-€-" + Guid.NewGuid().ToString("N") };
            Emu.Post("/_emulator/clients", "{\"client_id\":" + Json.Quote(c.Id) + ",\"client_secret\":" + Json.Quote(c.Secret) + "}");
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                Assert.That(client.GetToken().Token, Is.Not.Empty);
            }
            var form = (Dictionary<string, object>)Emu.RequestsFor(c.Id).Single()["form"];
            Assert.AreEqual(c.Secret, form["client_secret"]);
        }

        [Test]
        public void UseAfterDisposeThrowsObjectDisposed()
        {
            var c = Emu.NewClient();
            var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options());
            client.GetToken();
            client.Dispose();
            Assert.IsTrue(client.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => client.GetToken());
            Assert.Throws<ObjectDisposedException>(() => client.GetTokenJson());
            Assert.Throws<ObjectDisposedException>(() => client.RefreshToken());
            Assert.Throws<ObjectDisposedException>(() => client.TryGetCachedToken());
            Assert.Throws<ObjectDisposedException>(() => client.GetTokenAsync());
            client.Dispose(); // idempotent
            client.Dispose();
        }

        [Test]
        public void ConcurrentDisposeWhileInUse()
        {
            var c = Emu.NewClient();
            for (int round = 0; round < 20; round++)
            {
                var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options());
                client.GetToken();
                int ok = 0, disposed = 0;
                var other = new List<Exception>();
                var start = new ManualResetEventSlim(false);
                var threads = new List<Thread>();
                for (int t = 0; t < 4; t++)
                {
                    int which = t;
                    threads.Add(new Thread(() =>
                    {
                        start.Wait();
                        for (int i = 0; i < 2000; i++)
                        {
                            try
                            {
                                if (which == 0) client.GetTokenJson();
                                else if (which == 1) client.GetTokenAsync().Wait();
                                else client.GetToken();
                                Interlocked.Increment(ref ok);
                            }
                            catch (ObjectDisposedException)
                            {
                                Interlocked.Increment(ref disposed);
                                return;
                            }
                            catch (Exception e)
                            {
                                lock (other) other.Add(e);
                                return;
                            }
                        }
                    }));
                }
                // Several threads dispose at once, too.
                for (int t = 0; t < 3; t++)
                {
                    threads.Add(new Thread(() =>
                    {
                        start.Wait();
                        Thread.Sleep(2);
                        client.Dispose();
                    }));
                }
                threads.ForEach(t => t.Start());
                start.Set();
                threads.ForEach(t => Assert.IsTrue(t.Join(20000)));
                Assert.IsEmpty(other, "only ObjectDisposedException is allowed: " + string.Join("; ", other.Select(e => e.ToString())));
                Assert.IsTrue(client.IsDisposed);
                Assert.That(ok + disposed, Is.GreaterThan(0));
            }
            Assert.AreEqual(1, Emu.CountFor(c.Id), "all rounds shared the cached token");
        }

        // Issue 16: a call racing with Dispose used to get the marshaller's ObjectDisposedException
        // ("Safe handle has been closed", no object name) when the handle closed between the
        // wrapper's own check and the native call. Now every call after Dispose gets one message.
        [Test]
        public void UseAfterDisposeHasOneMessageWhateverTheRace()
        {
            var c = Emu.NewClient();
            string expected = new ObjectDisposedException(typeof(PaytrimAuthClient).FullName).Message;
            var seen = new Dictionary<string, int>();
            int calls = 0;
            for (int round = 0; round < 2000; round++)
            {
                var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options());
                client.GetToken();
                // One of the callers disposes once the round has made disposeAt calls, while the
                // other seven are mid-call (a separate disposer thread starves on a loaded machine).
                int roundCalls = 0, disposeAt = 200 + 100 * (round % 5);
                var threads = new List<Thread>();
                for (int t = 0; t < 8; t++)
                {
                    int which = t % 4;
                    threads.Add(new Thread(() =>
                    {
                        for (;;)
                        {
                            try
                            {
                                if (which == 0) client.GetToken();
                                else if (which == 1) client.TryGetCachedToken();
                                else if (which == 2) client.GetTokenJson();
                                else client.GetTokenAsync().Wait();
                                Interlocked.Increment(ref calls);
                                if (Interlocked.Increment(ref roundCalls) == disposeAt) client.Dispose();
                            }
                            catch (Exception e)
                            {
                                var ode = e as ObjectDisposedException;
                                string key = e.GetType().Name + ": " + e.Message
                                    + (ode != null ? " [object " + ode.ObjectName + "]" : "");
                                lock (seen) seen[key] = (seen.ContainsKey(key) ? seen[key] : 0) + 1;
                                return;
                            }
                        }
                    }));
                }
                threads.ForEach(t => t.Start());
                threads.ForEach(t => Assert.IsTrue(t.Join(20000)));
            }
            string report = string.Join("\n", seen.Select(kv => kv.Value + " x " + kv.Key));
            Console.WriteLine("dispose race: " + calls + " calls, exceptions:\n" + report);
            Assert.AreEqual(1, seen.Count, "one exception and message for every call after Dispose:\n" + report);
            Assert.AreEqual("ObjectDisposedException: " + expected + " [object " + typeof(PaytrimAuthClient).FullName + "]",
                seen.Keys.Single());
            Assert.AreEqual(2000 * 8, seen.Values.Single());
        }

        [Test]
        public void PendingAsyncCompletesAfterDispose()
        {
            var c = Emu.NewClient();
            Emu.Config("{\"latency_ms\":800}");
            Task<AccessToken> t;
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                t = client.GetTokenAsync();
            }
            Assert.IsTrue(t.Wait(10000));
            Assert.That(t.Result.Token, Is.Not.Empty);
        }

        [Test]
        public void AbiMismatchIsRefused()
        {
            string probe = Environment.GetEnvironmentVariable("PAYTRIM_CS_ABI_PROBE");
            if (string.IsNullOrEmpty(probe)) Assert.Ignore("PAYTRIM_CS_ABI_PROBE not set (test.sh builds it)");
            // A separate process: this one has already loaded the real library.
            var psi = new System.Diagnostics.ProcessStartInfo("mono", "\"" + probe + "\"")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                WorkingDirectory = Path.GetDirectoryName(probe),
            };
            psi.EnvironmentVariables["LD_LIBRARY_PATH"] = Path.GetDirectoryName(probe);
            using (var p = System.Diagnostics.Process.Start(psi))
            {
                string output = p.StandardOutput.ReadToEnd();
                Assert.IsTrue(p.WaitForExit(30000));
                Assert.AreEqual(0, p.ExitCode, output);
                StringAssert.StartsWith("System.InvalidOperationException: paytrim-auth: ABI mismatch", output);
                StringAssert.Contains("ABI version 99", output);
                StringAssert.Contains("written for ABI version 1", output);
            }
        }

        [Test]
        public void ManyClientsAreFinalizedWithoutLeaksOrCrashes()
        {
            var c = Emu.NewClient();
            CollectUntil(() => false, 2); // earlier tests' garbage out of the way
            long before = PaytrimAuthClientHandle.Live;
            MakeUndisposedClients(c, 200);
            Assert.AreEqual(before + 200, PaytrimAuthClientHandle.Live, "200 native clients alive");
            CollectUntil(() => PaytrimAuthClientHandle.Live <= before, 20);
            // Mono scans stacks conservatively: a stale slot may keep one or two alive.
            Assert.That(PaytrimAuthClientHandle.Live, Is.LessThanOrEqualTo(before + 2),
                "the SafeHandle finalizers freed the native clients");
            Assert.AreEqual(1, Emu.CountFor(c.Id));
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void MakeUndisposedClients(Creds c, int n)
        {
            for (int i = 0; i < n; i++)
            {
                var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options());
                client.GetToken();
                // not disposed: the SafeHandle's finalizer frees it
            }
        }

        private static void CollectUntil(Func<bool> done, int rounds)
        {
            for (int i = 0; i < rounds && !done(); i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }
    }

    [TestFixture]
    public class HeaderDriftTests
    {
        internal static string RepoRoot()
        {
            string env = Environment.GetEnvironmentVariable("PAYTRIM_REPO_ROOT");
            if (!string.IsNullOrEmpty(env)) return env;
            var dir = new DirectoryInfo(AppDomain.CurrentDomain.BaseDirectory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "include", "paytrim_auth.h"))) dir = dir.Parent;
            if (dir == null) throw new InvalidOperationException("cannot find include/paytrim_auth.h; set PAYTRIM_REPO_ROOT");
            return dir.FullName;
        }

        private static string Header()
        {
            return File.ReadAllText(Path.Combine(RepoRoot(), "include", "paytrim_auth.h"));
        }

        private static string ToUpperSnake(string pascal)
        {
            return Regex.Replace(pascal, "(?<=[a-z0-9])([A-Z])", "_$1").ToUpperInvariant();
        }

        [Test]
        public void ErrorCodesMatchTheHeader()
        {
            var fromHeader = new Dictionary<string, int>();
            foreach (Match m in Regex.Matches(Header(), @"^#define\s+PAYTRIM_AUTH_ERROR_([A-Z0-9_]+)\s+(\d+)\s*$", RegexOptions.Multiline))
                fromHeader[m.Groups[1].Value] = int.Parse(m.Groups[2].Value);
            Assert.That(fromHeader.Count, Is.GreaterThanOrEqualTo(10), "the header defines the error codes");

            var fromEnum = new Dictionary<string, int>();
            foreach (PaytrimAuthErrorCode v in Enum.GetValues(typeof(PaytrimAuthErrorCode)))
                if (v != PaytrimAuthErrorCode.None) fromEnum[ToUpperSnake(v.ToString())] = (int)v;

            CollectionAssert.AreEquivalent(fromHeader, fromEnum, "PaytrimAuthErrorCode mirrors PAYTRIM_AUTH_ERROR_*");

            // And the library agrees on each code's stable name.
            foreach (var kv in fromHeader)
            {
                string name = NativeMethods.PtrToStringUtf8(NativeMethods.paytrim_auth_error_code_name((uint)kv.Value));
                Assert.AreEqual(kv.Key.ToLowerInvariant(), name);
            }
        }

        [Test]
        public void AbiVersionMatchesTheHeaderAndTheLibrary()
        {
            Match m = Regex.Match(Header(), @"^#define\s+PAYTRIM_AUTH_ABI_VERSION\s+(\d+)\s*$", RegexOptions.Multiline);
            Assert.IsTrue(m.Success, "the header defines PAYTRIM_AUTH_ABI_VERSION");
            int header = int.Parse(m.Groups[1].Value);
            Assert.AreEqual(header, PaytrimAuthLibrary.AbiVersion);
            Assert.AreEqual((uint)header, NativeMethods.AbiVersion);
            Assert.AreEqual((uint)header, NativeMethods.paytrim_auth_abi_version());
        }
    }

    [TestFixture]
    public class PackageTests
    {
        [Test]
        public void NupkgHasTheRuntimesLayout()
        {
            string nupkg = Environment.GetEnvironmentVariable("PAYTRIM_CS_NUPKG");
            if (string.IsNullOrEmpty(nupkg)) Assert.Ignore("PAYTRIM_CS_NUPKG not set (test.sh builds the package and sets it)");
            Assert.IsTrue(File.Exists(nupkg), nupkg);
            var entries = ZipEntries(nupkg);
            CollectionAssert.Contains(entries, "runtimes/linux-x64/native/libpaytrim_auth.so");
            CollectionAssert.Contains(entries, "lib/netstandard2.0/Paytrim.Auth.dll");
            CollectionAssert.Contains(entries, "Paytrim.Auth.nuspec");
            Assert.IsFalse(entries.Any(e => e.StartsWith("lib/") && e.EndsWith(".so")), "no native code under lib/");
        }

        /// <summary>Reads the central directory of a zip (a .nupkg), no dependency needed.</summary>
        private static List<string> ZipEntries(string path)
        {
            byte[] b = File.ReadAllBytes(path);
            int eocd = -1;
            for (int i = b.Length - 22; i >= 0; i--)
            {
                if (b[i] == 0x50 && b[i + 1] == 0x4b && b[i + 2] == 5 && b[i + 3] == 6) { eocd = i; break; }
            }
            Assert.That(eocd, Is.GreaterThanOrEqualTo(0), "a zip end-of-central-directory record");
            int count = BitConverter.ToUInt16(b, eocd + 10);
            int off = BitConverter.ToInt32(b, eocd + 16);
            var names = new List<string>();
            for (int n = 0; n < count; n++)
            {
                Assert.AreEqual(0x02014b50, BitConverter.ToInt32(b, off));
                int nameLen = BitConverter.ToUInt16(b, off + 28);
                int extraLen = BitConverter.ToUInt16(b, off + 30);
                int commentLen = BitConverter.ToUInt16(b, off + 32);
                names.Add(Uri.UnescapeDataString(System.Text.Encoding.UTF8.GetString(b, off + 46, nameLen)));
                off += 46 + nameLen + extraLen + commentLen;
            }
            return names;
        }
    }
}
