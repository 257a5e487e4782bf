using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    [TestFixture]
    public class ClientTests
    {
        private static Emulator Emu { get { return Emulator.Current; } }

        [TearDown]
        public void RestoreKnobs()
        {
            // A test that failed half-way must not leave latency or faults to the next one.
            Emu.Post("/_emulator/reset", "{}");
        }

        [Test]
        public void DocumentedRequestShape()
        {
            var c = Emu.NewClient();
            var opts = Emu.Options();
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, opts))
            {
                DateTimeOffset before = DateTimeOffset.UtcNow;
                AccessToken t = client.GetToken();
                Assert.That(t.Token, Is.Not.Null.And.Not.Empty);
                Assert.AreEqual("Bearer", t.TokenType);
                Assert.That(t.ExpiresOn, Is.GreaterThan(before.AddSeconds(3500)));
                Assert.That(t.ExpiresOn, Is.LessThan(before.AddSeconds(3700)));
            }
            var reqs = Emu.RequestsFor(c.Id);
            Assert.AreEqual(1, reqs.Count);
            var r = reqs[0];
            Assert.AreEqual("POST", r["method"]);
            Assert.AreEqual("/" + opts.Tenant + "/oauth2/v2.0/token", r["path"]);
            var headers = (Dictionary<string, object>)r["headers"];
            StringAssert.StartsWith("application/x-www-form-urlencoded", (string)headers["content-type"]);
            var form = (Dictionary<string, object>)r["form"];
            Assert.AreEqual("client_credentials", form["grant_type"]);
            Assert.AreEqual(c.Id, form["client_id"]);
            Assert.AreEqual(c.Secret, form["client_secret"]);
            Assert.AreEqual("https://graph.microsoft.com/.default", form["scope"]);
            Assert.AreEqual("client_secret_post", r["client_auth"]);
            Assert.AreEqual(200.0, r["status"]);
        }

        [Test]
        public void GetTokenJsonIsTheDocumentedResponse()
        {
            var c = Emu.NewClient();
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                string json = client.GetTokenJson();
                var d = (Dictionary<string, object>)Json.Parse(json);
                CollectionAssert.AreEqual(new[] { "token_type", "expires_in", "access_token" }, d.Keys.ToArray());
                Assert.AreEqual("Bearer", d["token_type"]);
                double expiresIn = (double)d["expires_in"];
                Assert.That(expiresIn, Is.InRange(3500.0, 3599.0));
                Assert.AreEqual(Math.Floor(expiresIn), expiresIn, "expires_in is an integer");
                // The same cached token as GetToken().
                Assert.AreEqual(client.GetToken().Token, d["access_token"]);
            }
            Assert.AreEqual(1, Emu.CountFor(c.Id));
        }

        [Test]
        public void ClientSecretBasicAndTokenUrl()
        {
            var c = Emu.NewClient();
            var opts = Emu.Options();
            opts.AuthorityHost = null;
            opts.TokenUrl = Emu.Https + "/oauth2/token";
            opts.ClientAuth = PaytrimClientAuth.ClientSecretBasic;
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, opts))
            {
                Assert.That(client.GetToken().Token, Is.Not.Empty);
            }
            var r = Emu.RequestsFor(c.Id).Single();
            Assert.AreEqual("/oauth2/token", r["path"]);
            Assert.AreEqual("client_secret_basic", r["client_auth"]);
            Assert.AreEqual(c.Secret, r["basic_client_secret"]);
            Assert.IsFalse(((Dictionary<string, object>)r["form"]).ContainsKey("client_secret"));
        }

        [Test]
        public void TokensAreCachedAcrossCallsAndClients()
        {
            var c = Emu.NewClient();
            string first;
            using (var a = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                first = a.GetToken().Token;
                for (int i = 0; i < 10; i++) Assert.AreEqual(first, a.GetToken().Token);
                Assert.AreEqual(first, a.GetTokenAsync().Result.Token);
                Assert.IsNotNull(a.TryGetCachedToken());
            }
            // Another client with the same key shares the process-wide cache.
            using (var b = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                Assert.AreEqual(first, b.GetToken().Token);
            }
            Assert.AreEqual(1, Emu.CountFor(c.Id));

            // A different scope is another key: one more request.
            var opts = Emu.Options();
            opts.Scope = "api://paytrim-" + Guid.NewGuid().ToString("N") + "/.default";
            using (var d = new PaytrimAuthClient(c.Id, c.Secret, opts))
            {
                Assert.AreNotEqual(first, d.GetToken().Token);
            }
            Assert.AreEqual(2, Emu.CountFor(c.Id));
        }

        [Test]
        public void RefreshTokenForcesANewToken()
        {
            var c = Emu.NewClient();
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                string first = client.GetToken().Token;
                string second = client.RefreshToken().Token;
                Assert.AreNotEqual(first, second);
                Assert.AreEqual(second, client.GetToken().Token);
            }
            Assert.AreEqual(2, Emu.CountFor(c.Id));
        }

        [Test]
        public void RefreshTokenAsyncForcesANewTokenWithoutBlocking()
        {
            var c = Emu.NewClient();
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                string first = client.GetToken().Token;
                Emu.Fault("{\"kind\":\"stall\",\"ms\":2000}");
                Task<AccessToken> task = client.RefreshTokenAsync();
                // The answer is held back 2 s: a call that blocked for it would return a completed task.
                Assert.IsFalse(task.IsCompleted, "RefreshTokenAsync blocked the caller");
                Assert.IsTrue(task.Wait(TimeSpan.FromSeconds(20)));
                Assert.AreNotEqual(first, task.Result.Token);
                Assert.AreEqual(task.Result.Token, client.GetToken().Token);
            }
            Assert.AreEqual(2, Emu.CountFor(c.Id));
        }

        [Test]
        public void SingleFlightAcrossConcurrentTasks()
        {
            const int N = 48;
            var c = Emu.NewClient();
            Emu.Config("{\"latency_ms\":700}");
            ThreadPool.SetMinThreads(N + 8, N + 8);
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                var barrier = new Barrier(N);
                var tasks = new List<Task<AccessToken>>();
                for (int i = 0; i < N; i++)
                {
                    bool useAsync = i % 2 == 0;
                    tasks.Add(Task.Factory.StartNew(() =>
                    {
                        barrier.SignalAndWait();
                        return useAsync ? client.GetTokenAsync().Result : client.GetToken();
                    }, TaskCreationOptions.LongRunning));
                }
                Assert.IsTrue(Task.WaitAll(tasks.ToArray(), 30000), "all callers finished");
                var distinct = tasks.Select(t => t.Result.Token).Distinct().ToList();
                Assert.AreEqual(1, distinct.Count, "every caller got the same token");
            }
            Assert.AreEqual(1, Emu.CountFor(c.Id), "one HTTP request for " + N + " concurrent callers");
        }

        [Test]
        public void GetTokenAsyncLeavesTheCallingThreadFreeDuringASlowFetch()
        {
            var c = Emu.NewClient();
            Emu.Config("{\"latency_ms\":1500}");
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                Task<AccessToken> task = client.GetTokenAsync();
                // The answer takes 1.5 s: a call that waited for it would return a completed task.
                Assert.IsFalse(task.IsCompleted, "GetTokenAsync waited for the fetch");

                // The calling thread keeps working while the fetch runs.
                int ticks = 0;
                while (!task.IsCompleted && sw.ElapsedMilliseconds < 10000)
                {
                    Thread.Sleep(10);
                    ticks++;
                }
                Assert.That(ticks, Is.GreaterThan(50), "the calling thread ran during the fetch");
                Assert.That(sw.ElapsedMilliseconds, Is.GreaterThanOrEqualTo(1400));

                Assert.AreEqual(TaskStatus.RanToCompletion, task.Status);
                Assert.That(task.Result.Token, Is.Not.Empty);

                // Now a hit: completed before GetTokenAsync returns.
                Task<AccessToken> hit = client.GetTokenAsync();
                Assert.IsTrue(hit.IsCompleted, "a cache hit completes synchronously");
                Assert.AreEqual(TaskStatus.RanToCompletion, hit.Status);
                Assert.AreEqual(task.Result.Token, hit.Result.Token);
            }
            Assert.AreEqual(1, Emu.CountFor(c.Id));
        }

        [Test]
        public void GetTokenAsyncCancellationLeavesTheSharedFetchRunning()
        {
            var c = Emu.NewClient();
            Emu.Config("{\"latency_ms\":3000}");
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            using (var cts = new CancellationTokenSource())
            {
                Task<AccessToken> cancelled = client.GetTokenAsync(cts.Token);
                Task<AccessToken> other = client.GetTokenAsync();
                cts.CancelAfter(100);
                var ex = Assert.Throws<AggregateException>(() => cancelled.Wait(5000));
                Assert.IsInstanceOf<TaskCanceledException>(ex.InnerException);
                Assert.IsTrue(cancelled.IsCanceled);
                // Before the shared fetch (3 s) ended: the caller sharing it is still waiting.
                Assert.IsFalse(other.IsCompleted, "cancelled promptly, not at the fetch's end");
                Assert.That(other.Result.Token, Is.Not.Empty);

                // An already-cancelled token never starts anything.
                Assert.IsTrue(client.GetTokenAsync(cts.Token).IsCanceled);
            }
            Assert.AreEqual(1, Emu.CountFor(c.Id));
        }

        [Test]
        public void GetTokenAsyncFailureFaultsTheTask()
        {
            var c = Emu.NewClient();
            using (var client = new PaytrimAuthClient(c.Id, "wrong-secret", Emu.Options()))
            {
                Task<AccessToken> t = client.GetTokenAsync();
                var ex = Assert.Throws<AggregateException>(() => t.Wait(10000));
                var pe = ex.InnerException as PaytrimAuthException;
                Assert.IsNotNull(pe);
                Assert.AreEqual(PaytrimAuthErrorCode.CredentialRejected, pe.ErrorCode);
                Assert.AreEqual(401, pe.HttpStatus);
            }
        }

        [Test]
        public void TokenAndSecretNeverShowInStrings()
        {
            var c = Emu.NewClient();
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                AccessToken t = client.GetToken();
                StringAssert.DoesNotContain(t.Token, t.ToString());
                StringAssert.Contains("redacted", t.ToString());
                StringAssert.DoesNotContain(c.Secret, client.ToString());
                Assert.AreEqual("Bearer " + t.Token, t.AuthorizationHeaderValue);
            }
            using (var bad = new PaytrimAuthClient(c.Id, "not-" + c.Secret, Emu.Options()))
            {
                var e = Assert.Throws<PaytrimAuthException>(() => bad.GetToken());
                StringAssert.DoesNotContain(c.Secret, e.ToString());
                StringAssert.DoesNotContain(c.Secret, e.Message);
            }
        }

        [Test]
        public void ExpiresOnFollowsTheIdentityProvider()
        {
            var c = Emu.NewClient();
            Emu.Config("{\"expires_in\":1200}");
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, Emu.Options()))
            {
                DateTimeOffset now = DateTimeOffset.UtcNow;
                AccessToken t = client.GetToken();
                Assert.That((t.ExpiresOn - now).TotalSeconds, Is.InRange(1190.0, 1205.0));
            }
        }

        [Test]
        public void NativeVersionIsReported()
        {
            Assert.That(PaytrimAuthLibrary.Version, Is.StringMatching(@"^\d+\.\d+\.\d+"));
        }
    }
}
