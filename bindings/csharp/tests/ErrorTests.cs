using System;
using System.Linq;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    [TestFixture]
    public class ErrorTests
    {
        private static Emulator Emu { get { return Emulator.Current; } }

        [TearDown]
        public void RestoreKnobs()
        {
            Emu.Post("/_emulator/reset", "{}");
        }

        private static PaytrimAuthException Fail(string id, string secret, PaytrimAuthOptions opts)
        {
            using (var client = new PaytrimAuthClient(id, secret, opts))
            {
                return Assert.Throws<PaytrimAuthException>(() => client.GetToken());
            }
        }

        private static void AssertEntraDetails(PaytrimAuthException e)
        {
            Assert.That(e.TraceId, Is.Not.Null.And.Not.Empty, "trace id");
            Assert.That(e.CorrelationId, Is.Not.Null.And.Not.Empty, "correlation id");
            Assert.That(e.ClientRequestId, Is.Not.Null.And.Not.Empty, "client request id");
            Assert.That(e.Timestamp, Is.Not.Null.And.Not.Empty, "timestamp");
            Assert.That(e.OAuthErrorDescription, Is.Not.Null.And.StringStarting("AADSTS"));
            Assert.That(e.Message, Is.Not.Null.And.Not.Empty);
        }

        [Test]
        public void CredentialRejectedWrongSecret()
        {
            var c = Emu.NewClient();
            var e = Fail(c.Id, "wrong-secret", Emu.Options());
            Assert.AreEqual(PaytrimAuthErrorCode.CredentialRejected, e.ErrorCode);
            Assert.AreEqual("credential_rejected", e.ErrorCodeName);
            Assert.AreEqual(401, e.HttpStatus);
            Assert.AreEqual("invalid_client", e.OAuthError);
            CollectionAssert.AreEqual(new[] { 7000215 }, e.AadstsCodes.ToArray());
            Assert.IsFalse(e.IsRetryable);
            Assert.IsNull(e.RetryAfter);
            AssertEntraDetails(e);
            var r = Emu.RequestsFor(c.Id).Single();
            Assert.AreEqual(e.ClientRequestId, ((System.Collections.Generic.Dictionary<string, object>)r["headers"])["client-request-id"]);
        }

        [Test]
        public void CredentialRejectedUnknownClient()
        {
            var e = Fail("unknown-" + Guid.NewGuid(), "whatever", Emu.Options());
            Assert.AreEqual(PaytrimAuthErrorCode.CredentialRejected, e.ErrorCode);
            Assert.AreEqual(400, e.HttpStatus);
            Assert.AreEqual("unauthorized_client", e.OAuthError);
            CollectionAssert.Contains(e.AadstsCodes.ToArray(), 700016);
        }

        [Test]
        public void TenantNotFound()
        {
            var c = Emu.NewClient();
            var opts = Emu.Options();
            opts.Tenant = "unknown-tenant";
            var e = Fail(c.Id, c.Secret, opts);
            Assert.AreEqual(PaytrimAuthErrorCode.TenantNotFound, e.ErrorCode);
            Assert.AreEqual(400, e.HttpStatus);
            Assert.AreEqual("invalid_request", e.OAuthError);
            CollectionAssert.AreEqual(new[] { 90002 }, e.AadstsCodes.ToArray());
            Assert.IsFalse(e.IsRetryable);
            AssertEntraDetails(e);
        }

        [Test]
        public void RequestRejectedBadScope()
        {
            var c = Emu.NewClient();
            var opts = Emu.Options();
            opts.Scope = "https://graph.microsoft.com/User.Read";
            var e = Fail(c.Id, c.Secret, opts);
            Assert.AreEqual(PaytrimAuthErrorCode.RequestRejected, e.ErrorCode);
            Assert.AreEqual(400, e.HttpStatus);
            Assert.AreEqual("invalid_scope", e.OAuthError);
            Assert.IsFalse(e.IsRetryable);
            AssertEntraDetails(e);
        }

        [Test]
        public void ThrottledWithRetryAfter()
        {
            var c = Emu.NewClient();
            Emu.Fault("{\"kind\":\"status\",\"status\":429,\"retry_after\":\"7\"}");
            var e = Fail(c.Id, c.Secret, Emu.Options());
            Assert.AreEqual(PaytrimAuthErrorCode.Throttled, e.ErrorCode);
            Assert.AreEqual(429, e.HttpStatus);
            Assert.IsTrue(e.IsRetryable);
            Assert.IsNotNull(e.RetryAfter);
            Assert.That(e.RetryAfter.Value.TotalSeconds, Is.InRange(5.0, 7.0));
            CollectionAssert.Contains(e.AadstsCodes.ToArray(), 50196);
            Assert.AreEqual(1, Emu.CountFor(c.Id));
        }

        [Test]
        public void ServerError()
        {
            var c = Emu.NewClient();
            Emu.Fault("{\"kind\":\"status\",\"status\":500}");
            var e = Fail(c.Id, c.Secret, Emu.Options());
            Assert.AreEqual(PaytrimAuthErrorCode.Server, e.ErrorCode);
            Assert.AreEqual(500, e.HttpStatus);
            Assert.AreEqual("server_error", e.OAuthError);
            Assert.IsTrue(e.IsRetryable);
        }

        [Test]
        public void ServerErrorIsRetriedWhenAttemptsAllow()
        {
            var c = Emu.NewClient();
            Emu.Fault("{\"kind\":\"status\",\"status\":503,\"retry_after\":\"0\"}");
            var opts = Emu.Options();
            opts.MaxAttempts = 3;
            using (var client = new PaytrimAuthClient(c.Id, c.Secret, opts))
            {
                Assert.That(client.GetToken().Token, Is.Not.Empty);
            }
            Assert.AreEqual(2, Emu.CountFor(c.Id), "one failed attempt, one retry");
        }

        [Test]
        public void ProtocolMalformedJson()
        {
            var c = Emu.NewClient();
            Emu.Fault("{\"kind\":\"malformed_json\"}");
            var e = Fail(c.Id, c.Secret, Emu.Options());
            Assert.AreEqual(PaytrimAuthErrorCode.Protocol, e.ErrorCode);
            Assert.AreEqual(200, e.HttpStatus);
            Assert.IsTrue(e.IsRetryable);
        }

        [Test]
        public void ProtocolHtmlProxyPage()
        {
            var c = Emu.NewClient();
            Emu.Fault("{\"kind\":\"html\",\"status\":502}");
            var e = Fail(c.Id, c.Secret, Emu.Options());
            Assert.That(e.ErrorCode, Is.EqualTo(PaytrimAuthErrorCode.Server).Or.EqualTo(PaytrimAuthErrorCode.Protocol));
            Assert.AreEqual(502, e.HttpStatus);
        }

        [Test]
        public void NetworkReset()
        {
            var c = Emu.NewClient();
            Emu.Fault("{\"kind\":\"reset\"}");
            var e = Fail(c.Id, c.Secret, Emu.Options());
            Assert.AreEqual(PaytrimAuthErrorCode.Network, e.ErrorCode);
            Assert.IsNull(e.HttpStatus);
            Assert.IsTrue(e.IsRetryable);
        }

        [Test]
        public void NetworkTimeout()
        {
            var c = Emu.NewClient();
            Emu.Fault("{\"kind\":\"stall\",\"ms\":15000}");
            var opts = Emu.Options();
            opts.Timeout = TimeSpan.FromMilliseconds(500);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var e = Fail(c.Id, c.Secret, opts);
            Assert.AreEqual(PaytrimAuthErrorCode.Network, e.ErrorCode);
            // 500 ms plus generous room for a loaded machine, well short of the 15 s stall.
            Assert.That(sw.ElapsedMilliseconds, Is.InRange(400, 10000));
        }

        [Test]
        public void TlsWrongHostName()
        {
            var c = Emu.NewClient();
            var opts = Emu.Options();
            opts.AuthorityHost = Emu.Https.Replace("127.0.0.1", "localhost");
            var e = Fail(c.Id, c.Secret, opts);
            Assert.AreEqual(PaytrimAuthErrorCode.Tls, e.ErrorCode);
            Assert.IsNull(e.HttpStatus);
            Assert.AreEqual(0, Emu.CountFor(c.Id));
        }

        [Test]
        public void TlsUntrustedCertificate()
        {
            var c = Emu.NewClient();
            var opts = Emu.Options();
            opts.CaFile = null;
            var e = Fail(c.Id, c.Secret, opts);
            Assert.AreEqual(PaytrimAuthErrorCode.Tls, e.ErrorCode);
        }

        [Test]
        public void InvalidArgumentBadOptionValues()
        {
            var c = Emu.NewClient();
            var opts = Emu.Options();
            opts.MaxAttempts = 0;
            var e = Assert.Throws<PaytrimAuthException>(() => new PaytrimAuthClient(c.Id, c.Secret, opts));
            Assert.AreEqual(PaytrimAuthErrorCode.InvalidArgument, e.ErrorCode);
            Assert.AreEqual("invalid_argument", e.ErrorCodeName);
            StringAssert.Contains("max_attempts", e.Message);
            Assert.IsNull(e.HttpStatus);
            Assert.IsFalse(e.IsRetryable);

            var e2 = Assert.Throws<PaytrimAuthException>(() =>
                new PaytrimAuthClient(c.Id, c.Secret, new PaytrimAuthOptions { Proxy = "not a url at all ::" }));
            Assert.AreEqual(PaytrimAuthErrorCode.InvalidArgument, e2.ErrorCode);
            StringAssert.Contains("proxy", e2.Message);
            Assert.AreEqual(0, Emu.CountFor(c.Id));
        }
    }
}
