using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    /// <summary>
    /// The typed <see cref="PaytrimAuthOptions"/> properties reach the library with the right key
    /// and unit: each is set as a TimeSpan or string and its effect measured (a wrong unit, say
    /// seconds passed as milliseconds, fails the test). Also the statuses the README lists as
    /// retried (408, 504) and a 429 without Retry-After.
    /// </summary>
    [TestFixture]
    public class TypedOptionsTests
    {
        private static Emulator Emu { get { return Emulator.Current; } }

        [TearDown]
        public void RestoreKnobs()
        {
            Emu.Post("/_emulator/reset", "{}");
        }

        [Test]
        public void ConnectTimeoutBoundsAStalledTlsHandshake()
        {
            using (var silent = new SilentServer())
            using (var client = new PaytrimAuthClient("connect-id", "connect-secret", new PaytrimAuthOptions
            {
                TokenUrl = "https://127.0.0.1:" + silent.Port + "/oauth2/v2.0/token",
                Proxy = "none",
                ConnectTimeout = TimeSpan.FromMilliseconds(700),
                Timeout = TimeSpan.FromSeconds(20),
                TotalTimeout = TimeSpan.FromSeconds(30),
                MaxAttempts = 1,
            }))
            {
                var sw = Stopwatch.StartNew();
                var e = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                long took = sw.ElapsedMilliseconds;
                Assert.AreEqual(PaytrimAuthErrorCode.Network, e.ErrorCode, e.Message);
                StringAssert.Contains("connect", e.Message);
                StringAssert.Contains("700 ms", e.Message);
                Assert.AreEqual(1, silent.Held, "one attempt reached TCP");
                // 700 ms, not 0.7 ms and not 700 s (the attempt timeout, 20 s, would end that one).
                Assert.That(took, Is.GreaterThanOrEqualTo(600), "ended before the connect timeout");
                Assert.That(took, Is.LessThan(700 + 8000));
            }
        }

        [Test]
        public void TotalTimeoutBoundsAFetchWhoseAttemptsStall()
        {
            var c = Emu.NewClient();
            Emu.Fault("{\"kind\":\"stall\",\"ms\":25000,\"count\":10}");
            var opts = Emu.Options();
            opts.Timeout = TimeSpan.FromSeconds(20);
            opts.TotalTimeout = TimeSpan.FromMilliseconds(1200);
            opts.MaxAttempts = 4;
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, opts))
            {
                var sw = Stopwatch.StartNew();
                var e = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                long took = sw.ElapsedMilliseconds;
                Assert.AreEqual(PaytrimAuthErrorCode.Network, e.ErrorCode, e.Message);
                Assert.That(took, Is.GreaterThanOrEqualTo(1000), "ended before the budget");
                // Not 1200 s: one attempt alone would then run its whole 20 s.
                Assert.That(took, Is.LessThan(1200 + 8000));
            }
        }

        [Test]
        public void RefreshMarginStartsTheBackgroundRefreshThatLongBeforeExpiry()
        {
            // Tokens live 8 s, so the margin is capped at 4 s. With RefreshMargin = 2 s a call
            // 3 s before expiry is served from the cache without a request, and a call 1.2 s
            // before expiry starts a background refresh. A margin sent as milliseconds (capped
            // to 4 s) refreshes at the first call; one rounded to 0 never refreshes early.
            Emu.Config("{\"expires_in\":8}");
            var c = Emu.NewClient();
            var opts = Emu.Options();
            opts.RefreshMargin = TimeSpan.FromSeconds(2);
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, opts))
            {
                AccessToken first = client.GetToken();
                SleepUntil(first.ExpiresOn.AddMilliseconds(-3000));
                Assert.AreEqual(first.Token, client.GetToken().Token, "served from the cache");
                SleepUntil(first.ExpiresOn.AddMilliseconds(-1200));
                Assert.AreEqual(1, Emu.CountFor(c.Id), "no refresh 3 s before expiry with a 2 s margin");
                Assert.AreEqual(first.Token, client.GetToken().Token, "the refresh runs in the background");
                AwaitRequests(c.Id, 2);
                Assert.AreEqual(200L, Convert.ToInt64(Emu.RequestsFor(c.Id)[1]["status"]));
            }
        }

        private static void SleepUntil(DateTimeOffset when)
        {
            double ms = (when - DateTimeOffset.UtcNow).TotalMilliseconds;
            Assert.That(ms, Is.GreaterThan(0), "the test fell behind its own schedule");
            Thread.Sleep(TimeSpan.FromMilliseconds(ms));
        }

        private static void AwaitRequests(string id, int n)
        {
            var sw = Stopwatch.StartNew();
            while (Emu.CountFor(id) < n && sw.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(25);
            Assert.AreEqual(n, Emu.CountFor(id));
        }

        [Test]
        public void ProxyTunnelsThroughTheGivenProxy()
        {
            var c = Emu.NewClient();
            using (var proxy = new RecordingProxy())
            {
                var opts = Emu.Options();
                opts.Proxy = proxy.Url;
                using (var client = new PaytrimAuthClient(c.Id, c.Secret, opts))
                {
                    Assert.That(client.GetToken().Token, Is.Not.Empty);
                }
                string hostPort = Emu.Https.Substring("https://".Length);
                var lines = proxy.RequestLines;
                Assert.AreEqual(1, lines.Count, string.Join(" | ", lines));
                StringAssert.StartsWith("CONNECT " + hostPort + " ", lines[0]);
            }
            Assert.AreEqual(1, Emu.CountFor(c.Id));
        }

        [Test]
        public void AnUnresolvableHostIsANetworkErrorNamingIt()
        {
            // `.invalid` never resolves (RFC 6761). Proxy = "none": test.sh points every proxy
            // variable at a dead proxy, which would otherwise be the error.
            long before = Emu.Stat("token_requests");
            using (var client = new PaytrimAuthClient("dns-id", "dns-secret", new PaytrimAuthOptions
            {
                AuthorityHost = "https://nonexistent.invalid",
                Tenant = "contoso.onmicrosoft.com",
                Proxy = "none",
                ConnectTimeout = TimeSpan.FromSeconds(3),
                MaxAttempts = 1,
            }))
            {
                var e = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                Assert.AreEqual(PaytrimAuthErrorCode.Network, e.ErrorCode, e.Message);
                StringAssert.StartsWith("network: ", e.Message);
                StringAssert.Contains("nonexistent.invalid", e.Message);
                Assert.IsTrue(e.IsRetryable, e.Message);
            }
            Assert.AreEqual(before, Emu.Stat("token_requests"), "the emulator saw a request");
        }

        /// <summary>
        /// ALL_PROXY alone (no HTTPS_PROXY/https_proxy) carries the token request, in a child process
        /// (tests/env/EnvProbe.exe) whose only proxy variable is ALL_PROXY, so the suite's own
        /// environment (a dead proxy in every variable) does not matter. Clients never send a
        /// loopback host through an environment proxy, so the child asks for an emulator under a
        /// name that does not resolve (its certificate names it: --dns-name) and the proxy tunnels
        /// that name to 127.0.0.1.
        /// </summary>
        [Test]
        public void AllProxyAloneCarriesTheTokenRequest()
        {
            const string name = "login.all-proxy.invalid";
            using (var named = new Emulator(Environment.GetEnvironmentVariable("PAYTRIM_EMULATOR"), "--dns-name " + name))
            using (var proxy = new RecordingProxy("127.0.0.1"))
            {
                var c = named.NewClient();
                string port = named.Https.Substring(named.Https.LastIndexOf(':') + 1);
                int code;
                string output = CredentialTests.RunEnvProbe(out code,
                    "PAYTRIM_CLIENT_ID", c.Id,
                    "PAYTRIM_CLIENT_SECRET", c.Secret,
                    "PAYTRIM_TENANT_ID", "contoso.onmicrosoft.com",
                    "PAYTRIM_AUTHORITY_HOST", "https://" + name + ":" + port,
                    "PAYTRIM_CA_FILE", named.CaFile,
                    "ALL_PROXY", proxy.Url);
                Assert.AreEqual(0, code, output);
                StringAssert.Contains("token-length=", output);
                var lines = proxy.RequestLines;
                Assert.AreEqual(1, lines.Count, string.Join(" | ", lines));
                StringAssert.StartsWith("CONNECT " + name + ":" + port + " ", lines[0]);
                Assert.AreEqual(1, named.CountFor(c.Id));
            }
        }

        private void AssertRetriedOnce(int status)
        {
            var c = Emu.NewClient();
            Emu.Fault("{\"kind\":\"status\",\"status\":" + status + "}");
            var opts = Emu.Options();
            opts.MaxAttempts = 2;
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, opts))
            {
                Assert.That(client.GetToken().Token, Is.Not.Empty);
            }
            var reqs = Emu.RequestsFor(c.Id);
            Assert.AreEqual(2, reqs.Count);
            Assert.AreEqual((long)status, Convert.ToInt64(reqs[0]["status"]));
            Assert.AreEqual(200L, Convert.ToInt64(reqs[1]["status"]));
        }

        [Test]
        public void Status408IsRetried()
        {
            AssertRetriedOnce(408);
        }

        [Test]
        public void Status504IsRetried()
        {
            AssertRetriedOnce(504);
        }

        [Test]
        public void Status429WithoutRetryAfterIsRetried()
        {
            AssertRetriedOnce(429);
        }

        [Test]
        public void Status429WithoutRetryAfterEndingAFetchThrottlesTheKeyForTheDefaultDelay()
        {
            var c = Emu.NewClient();
            Emu.Fault("{\"kind\":\"status\",\"status\":429}");
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                var e = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                Assert.AreEqual(PaytrimAuthErrorCode.Throttled, e.ErrorCode);
                Assert.AreEqual(429, e.HttpStatus);
                Assert.IsTrue(e.IsRetryable);
                Assert.AreEqual(TimeSpan.FromSeconds(5), e.RetryAfter, "the default throttle");
                var again = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                Assert.AreEqual(PaytrimAuthErrorCode.Throttled, again.ErrorCode);
                Assert.IsNull(again.HttpStatus, "no request: this error is the remembered throttle");
                Assert.That(again.RetryAfter, Is.GreaterThan(TimeSpan.Zero).And.LessThanOrEqualTo(TimeSpan.FromSeconds(5)));
            }
            Assert.AreEqual(1, Emu.CountFor(c.Id));
        }

        [Test]
        public void EachFailingCallReportsItsOwnDetails()
        {
            // A wrapper that kept the previous call's error fields would show the 429's status,
            // Retry-After or ids on the later, different failures.
            var a = Emu.NewClient();
            var b = Emu.NewClient();
            Emu.Fault("{\"kind\":\"status\",\"status\":429,\"retry_after\":\"7\"}");
            using (var throttled = new PaytrimAuthClient(a.Id, a.Secret, Emu.Options()))
            using (var rejected = new PaytrimAuthClient(b.Id, "wrong-secret", Emu.Options()))
            {
                var first = Assert.Throws<PaytrimAuthException>(() => throttled.GetToken());
                Assert.AreEqual(PaytrimAuthErrorCode.Throttled, first.ErrorCode);
                Assert.AreEqual(429, first.HttpStatus);
                Assert.AreEqual(TimeSpan.FromSeconds(7), first.RetryAfter);
                Assert.IsNotNull(first.TraceId);

                var second = Assert.Throws<PaytrimAuthException>(() => rejected.GetToken());
                Assert.AreEqual(PaytrimAuthErrorCode.CredentialRejected, second.ErrorCode, second.Message);
                Assert.AreEqual(401, second.HttpStatus);
                Assert.IsNull(second.RetryAfter);
                Assert.IsFalse(second.IsRetryable);
                CollectionAssert.AreEqual(new[] { 7000215 }, second.AadstsCodes.ToArray());
                Assert.AreNotEqual(first.TraceId, second.TraceId);

                var third = Assert.Throws<PaytrimAuthException>(() => throttled.GetToken());
                Assert.AreEqual(PaytrimAuthErrorCode.Throttled, third.ErrorCode, "the remembered throttle");
                Assert.IsNull(third.HttpStatus, "no answer behind this one");
                Assert.AreEqual(0, third.AadstsCodes.Count);
                Assert.IsNull(third.TraceId);
                Assert.IsNull(third.OAuthError);
            }
            Assert.AreEqual(1, Emu.CountFor(a.Id));
            Assert.AreEqual(1, Emu.CountFor(b.Id));
        }
    }
}
