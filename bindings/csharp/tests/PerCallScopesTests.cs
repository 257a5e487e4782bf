using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    /// <summary>Per-call scopes: one client, several scope sets, each with its own cache entry.</summary>
    [TestFixture]
    public class PerCallScopesTests
    {
        private static Emulator Emu { get { return Emulator.Current; } }

        [TearDown]
        public void RestoreKnobs()
        {
            Emu.Post("/_emulator/reset", "{}");
        }

        private static string Aud(AccessToken t)
        {
            string s = t.Token.Split('.')[1].Replace('-', '+').Replace('_', '/');
            s = s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
            var claims = (Dictionary<string, object>)Json.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(s)));
            return (string)claims["aud"];
        }

        private static List<string> ScopesSent(string id)
        {
            return Emu.RequestsFor(id).Select(r => (string)((Dictionary<string, object>)r["form"])["scope"]).ToList();
        }

        private static PaytrimAuthClient NewClient(out string id)
        {
            var c = Emu.NewClient();
            id = c.Id;
            var opts = Emu.Options();
            opts.Scope = "api://default/.default";
            return new PaytrimAuthClient(c.Id, c.Secret, opts);
        }

        [Test]
        public void EachScopeSetHasItsOwnTokenAndTheConfiguredScopeStaysTheDefault()
        {
            string id;
            using (var client = NewClient(out id))
            {
                AccessToken d = client.GetToken();
                AccessToken orders = client.GetToken("api://orders/.default");
                AccessToken billing = client.GetToken(new List<string> { "api://billing/.default" });
                Assert.AreEqual("api://default", Aud(d));
                Assert.AreEqual("api://orders", Aud(orders));
                Assert.AreEqual("api://billing", Aud(billing));
                for (int i = 0; i < 20; i++)
                {
                    Assert.AreEqual(d.Token, client.GetToken().Token);
                    Assert.AreEqual(orders.Token, client.GetToken("api://orders/.default").Token);
                    Assert.AreEqual(d.Token, client.GetToken("api://default/.default").Token, "configured = default");
                }
                Assert.AreEqual(billing.Token, client.TryGetCachedToken("api://billing/.default").Token);
                Assert.IsNull(client.TryGetCachedToken("api://never/.default"));
                AccessToken fresh = client.RefreshToken("api://orders/.default");
                Assert.AreNotEqual(orders.Token, fresh.Token);
                Assert.AreEqual(d.Token, client.GetToken().Token, "the default entry kept its token");
            }
            CollectionAssert.AreEqual(new[] { "api://default/.default", "api://orders/.default", "api://billing/.default", "api://orders/.default" },
                ScopesSent(id));
        }

        [Test]
        public void AsyncCallersOfOneScopeSetShareOneRequest()
        {
            string id;
            using (var client = NewClient(out id))
            {
                Emu.Config("{\"latency_ms\":200}");
                var scopes = new[] { "api://async-" + Guid.NewGuid() + "/.default" };
                var tasks = Enumerable.Range(0, 16).Select(_ => client.GetTokenAsync(scopes)).ToArray();
                Assert.IsTrue(Task.WaitAll(tasks, 30000));
                Assert.AreEqual(1, tasks.Select(t => t.Result.Token).Distinct().Count());
                Assert.AreEqual(1, Emu.CountFor(id), "one request for 16 async callers");
                Assert.IsTrue(client.GetTokenAsync(scopes).IsCompleted, "a hit completes at once");
                AccessToken fresh = client.RefreshTokenAsync(scopes).Result;
                Assert.AreNotEqual(tasks[0].Result.Token, fresh.Token);
                Assert.AreEqual(2, Emu.CountFor(id));
            }
        }

        [Test]
        public void BadScopesAreRefusedClearly()
        {
            string id;
            using (var client = NewClient(out id))
            {
                Assert.Throws<ArgumentNullException>(() => client.GetToken((string[])null));
                Assert.Throws<ArgumentNullException>(() => client.GetTokenAsync((IEnumerable<string>)null));
                var cases = new[]
                {
                    Tuple.Create(new string[0], "empty"),
                    Tuple.Create(new[] { "api://a/.default", null }, "scope 1 is null"),
                    Tuple.Create(new[] { "" }, "scope 0 is empty"),
                    Tuple.Create(new[] { "api://a/.default api://b/.default" }, "whitespace"),
                    Tuple.Create(new[] { "api://a/\u0001.default" }, "control"),
                };
                foreach (var k in cases)
                {
                    var e = Assert.Throws<ArgumentException>(() => client.GetToken(k.Item1));
                    StringAssert.Contains(k.Item2, e.Message);
                    Assert.AreEqual("scopes", e.ParamName);
                    Assert.Throws<ArgumentException>(() => client.GetTokenAsync(k.Item1));
                    Assert.Throws<ArgumentException>(() => client.RefreshToken(k.Item1));
                }
                var server = Assert.Throws<PaytrimAuthException>(() => client.GetToken("api://no-suffix"));
                Assert.AreEqual("invalid_scope", server.OAuthError);
                client.GetToken();
            }
            var closed = NewClient(out id);
            closed.Dispose();
            Assert.Throws<ObjectDisposedException>(() => closed.GetToken("api://x/.default"));
        }

        [Test]
        public void ManagedIdentityTakesItsResourcePerCall()
        {
            string r1 = "api://mi-" + Guid.NewGuid(), r2 = "api://mi-" + Guid.NewGuid();
            using (var client = PaytrimAuthClient.ManagedIdentity(null, new PaytrimAuthOptions { ImdsEndpoint = Emu.Http, Scope = r1 + "/.default" }))
            {
                Assert.AreEqual(r1, Aud(client.GetToken()));
                Assert.AreEqual(r2, Aud(client.GetToken(r2 + "/.default")));
                var e = Assert.Throws<PaytrimAuthException>(() => client.GetToken(r1 + "/.default", r2 + "/.default"));
                StringAssert.Contains("exactly one resource", e.Message);
            }
        }
    }
}
