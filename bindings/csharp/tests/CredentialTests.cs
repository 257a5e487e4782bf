using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Paytrim.Auth.Tests
{
    /// <summary>Every credential kind from C#, end to end against the emulator.</summary>
    [TestFixture]
    public class CredentialTests
    {
        private const string Password = "pfx pässword";
        private static Emulator Emu { get { return Emulator.Current; } }
        private string _dir;
        private string _certPem;
        private string _keyPem;
        private string _pfx;       // modern PKCS#12 (AES), as OpenSSL 3 writes it
        private string _pkcs1;     // the key as PKCS#1, which the test's signer decodes itself

        [TestFixtureSetUp]
        public void MakeCertificate()
        {
            _dir = Path.Combine(Path.GetTempPath(), "paytrim-cs-certs-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(_dir);
            OpenSsl("req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=paytrim-cs-test");
            OpenSsl("pkcs12 -export -in cert.pem -inkey key.pem -out client.pfx -passout \"pass:" + Password + "\"");
            OpenSsl("rsa -in key.pem -traditional -out pkcs1.pem");
            _certPem = File.ReadAllText(Path.Combine(_dir, "cert.pem"));
            _keyPem = File.ReadAllText(Path.Combine(_dir, "key.pem"));
            _pfx = Path.Combine(_dir, "client.pfx");
            _pkcs1 = Path.Combine(_dir, "pkcs1.pem");
        }

        [TestFixtureTearDown]
        public void RemoveCertificate()
        {
            if (_dir != null) Directory.Delete(_dir, true);
        }

        [TearDown]
        public void Reset()
        {
            Emu.Post("/_emulator/reset", "{}");
        }

        private void OpenSsl(string args)
        {
            var psi = new ProcessStartInfo("openssl", args)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = _dir,
            };
            using (var p = Process.Start(psi))
            {
                string err = p.StandardError.ReadToEnd();
                p.StandardOutput.ReadToEnd();
                Assert.IsTrue(p.WaitForExit(60000));
                Assert.AreEqual(0, p.ExitCode, "openssl " + args + ": " + err);
            }
        }

        private string NewCertificateClient()
        {
            string id = Guid.NewGuid().ToString();
            Emu.Post("/_emulator/clients", "{\"client_id\":" + Json.Quote(id) + ",\"certificate_pem\":" + Json.Quote(_certPem) + "}");
            return id;
        }

        private static PaytrimAuthOptions Options()
        {
            var o = Emu.Options();
            o.MaxAttempts = null;
            o.Proxy = "none";
            return o;
        }

        private static Dictionary<string, object> Decode(string jwt, int part)
        {
            string s = jwt.Split('.')[part].Replace('-', '+').Replace('_', '/');
            s = s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
            return (Dictionary<string, object>)Json.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(s)));
        }

        private static List<string> AssertionsFor(string id)
        {
            return Emu.RequestsFor(id)
                .Select(r => (Dictionary<string, object>)r["form"])
                .Where(f => f.ContainsKey("client_assertion"))
                .Select(f => (string)f["client_assertion"]).ToList();
        }

        private static string B64Url(byte[] b)
        {
            return Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }

        /// <summary>The DER body of the first PEM block in <paramref name="pem"/>.</summary>
        private static byte[] PemBody(string pem)
        {
            var lines = pem.Split('\n').Select(l => l.Trim()).SkipWhile(l => !l.StartsWith("-----BEGIN"));
            return Convert.FromBase64String(string.Concat(lines.Skip(1).TakeWhile(l => !l.StartsWith("-----END"))));
        }

        /// <summary>RSA parameters from a PKCS#1 RSAPrivateKey (a DER SEQUENCE of INTEGERs); Mono has no PEM import.</summary>
        private static RSAParameters Pkcs1(byte[] der)
        {
            int pos = 0;
            Func<int> length = () =>
            {
                int n = der[pos++];
                if (n < 0x80) return n;
                int v = 0;
                for (int k = n & 0x7f; k > 0; k--) v = (v << 8) | der[pos++];
                return v;
            };
            Func<byte[]> integer = () =>
            {
                Assert.AreEqual(0x02, der[pos++]);
                int n = length();
                int skip = 0;
                while (n - skip > 1 && der[pos + skip] == 0) skip++;
                var b = new byte[n - skip];
                Array.Copy(der, pos + skip, b, 0, b.Length);
                pos += n;
                return b;
            };
            Assert.AreEqual(0x30, der[pos++]);
            length();
            integer(); // version
            var p = new RSAParameters { Modulus = integer(), Exponent = integer(), D = integer(), P = integer(), Q = integer(), DP = integer(), DQ = integer(), InverseQ = integer() };
            // .NET wants D as long as the modulus, and the CRT values half as long.
            Func<byte[], int, byte[]> pad = (b, n) => { if (b.Length >= n) return b; var r = new byte[n]; Array.Copy(b, 0, r, n - b.Length, b.Length); return r; };
            int half = (p.Modulus.Length + 1) / 2;
            p.D = pad(p.D, p.Modulus.Length);
            p.P = pad(p.P, half); p.Q = pad(p.Q, half); p.DP = pad(p.DP, half); p.DQ = pad(p.DQ, half); p.InverseQ = pad(p.InverseQ, half);
            return p;
        }

        /// <summary>An RS256 assertion signed with the platform's RSA, as an HSM-backed signer would make it.</summary>
        private string Sign(PaytrimAssertionRequest r)
        {
            using (var sha = SHA256.Create())
            using (var rsa = RSA.Create())
            {
                rsa.ImportParameters(Pkcs1(PemBody(File.ReadAllText(_pkcs1))));
                long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                string header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t#S256\":\"" + B64Url(sha.ComputeHash(PemBody(_certPem))) + "\"}";
                string claims = "{\"aud\":" + Json.Quote(r.Audience) + ",\"iss\":" + Json.Quote(r.ClientId) + ",\"sub\":" + Json.Quote(r.ClientId)
                    + ",\"jti\":\"" + Guid.NewGuid() + "\",\"iat\":" + now + ",\"nbf\":" + now + ",\"exp\":" + (now + 600) + "}";
                string input = B64Url(Encoding.UTF8.GetBytes(header)) + "." + B64Url(Encoding.UTF8.GetBytes(claims));
                byte[] sig = rsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                return input + "." + B64Url(sig);
            }
        }

        [Test]
        public void Pkcs12CertificateSignsAFreshPs256AssertionPerRequest()
        {
            string id = NewCertificateClient();
            using (var cred = PaytrimCredential.FromCertificateFile(_pfx, Password))
            using (var client = new PaytrimAuthClient(id, cred, Options()))
            {
                StringAssert.DoesNotContain(Password, cred.ToString());
                string t1 = client.GetToken().Token;
                Assert.AreEqual(t1, client.GetToken().Token, "a cache hit signs and sends nothing");
                Assert.AreNotEqual(t1, client.RefreshToken().Token);
            }
            var sent = AssertionsFor(id);
            Assert.AreEqual(2, sent.Count);
            var form = (Dictionary<string, object>)Emu.RequestsFor(id)[0]["form"];
            Assert.AreEqual("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", form["client_assertion_type"]);
            Assert.IsFalse(form.ContainsKey("client_secret"));
            Assert.AreEqual("PS256", Decode(sent[0], 0)["alg"]);
            Assert.AreEqual(id, Decode(sent[0], 1)["iss"]);
            Assert.AreNotEqual(Decode(sent[0], 1)["jti"], Decode(sent[1], 1)["jti"]);
        }

        [Test]
        public void Pkcs12FromMemory()
        {
            string id = NewCertificateClient();
            using (var cred = PaytrimCredential.FromPkcs12(File.ReadAllBytes(_pfx), Password))
            using (var client = new PaytrimAuthClient(id, cred, Options()))
                Assert.That(client.GetToken().Token, Is.Not.Empty);
            Assert.AreEqual("PS256", Decode(AssertionsFor(id)[0], 0)["alg"]);
            var e = Assert.Throws<PaytrimAuthException>(() => PaytrimCredential.FromPkcs12(File.ReadAllBytes(_pfx), "wrong-pw"));
            Assert.AreEqual(PaytrimAuthErrorCode.InvalidArgument, e.ErrorCode);
            StringAssert.DoesNotContain("wrong-pw", e.Message);
        }

        [Test]
        public void PemTextWithRs256AndTheChain()
        {
            string id = NewCertificateClient();
            using (var cred = PaytrimCredential.FromCertificatePem(_certPem, _keyPem)
                .WithSigningAlgorithm(PaytrimSigningAlgorithm.RS256).WithCertificateChain())
            {
                // The client keeps its own reference: the credential may go first.
                var client = new PaytrimAuthClient(id, cred, Options());
                cred.Dispose();
                using (client) client.GetToken();
            }
            var h = Decode(AssertionsFor(id)[0], 0);
            Assert.AreEqual("RS256", h["alg"]);
            Assert.IsTrue(h.ContainsKey("x5t") && h.ContainsKey("x5t#S256"));
            Assert.AreEqual(1, ((List<object>)h["x5c"]).Count);
        }

        [Test]
        public void BadCertificateInputsAreClearErrors()
        {
            var e = Assert.Throws<PaytrimAuthException>(() => PaytrimCredential.FromCertificateFile(_pfx, "wrong-pw"));
            Assert.AreEqual(PaytrimAuthErrorCode.InvalidArgument, e.ErrorCode);
            StringAssert.Contains(_pfx, e.Message);
            StringAssert.DoesNotContain("wrong-pw", e.Message);
            string missing = Path.Combine(_dir, "missing.pem");
            e = Assert.Throws<PaytrimAuthException>(() => PaytrimCredential.FromCertificateFile(missing));
            StringAssert.Contains(missing, e.Message);
            using (var cred = PaytrimCredential.FromCertificatePem(_certPem, _keyPem))
            {
                e = Assert.Throws<PaytrimAuthException>(() => cred.Set("signing_algorithm", "HS256"));
                StringAssert.Contains("HS256", e.Message);
            }
            using (var fed = PaytrimCredential.FromSecret("s"))
            {
                e = Assert.Throws<PaytrimAuthException>(() => fed.WithCertificateChain());
                StringAssert.Contains("has no options", e.Message);
            }
            var disposed = PaytrimCredential.FromSecret("s");
            disposed.Dispose();
            Assert.Throws<ObjectDisposedException>(() => new PaytrimAuthClient("id", disposed, Options()));
            // A certificate the server does not know: Entra's answer.
            using (var cred = PaytrimCredential.FromCertificatePem(_certPem, _keyPem))
            using (var client = new PaytrimAuthClient(Guid.NewGuid().ToString(), cred, Options()))
            {
                e = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                Assert.AreEqual(PaytrimAuthErrorCode.CredentialRejected, e.ErrorCode, e.Message);
            }
        }

        [Test]
        public void AssertionCallbackSignsWithPlatformRsaOnALibraryThread()
        {
            string id = NewCertificateClient();
            int calls = 0;
            int thread = -1;
            PaytrimAssertionRequest asked = null;
            int me = Thread.CurrentThread.ManagedThreadId;
            using (var cred = PaytrimCredential.FromAssertion((PaytrimAssertionRequest r, CancellationToken ct) =>
            {
                Interlocked.Increment(ref calls);
                thread = Thread.CurrentThread.ManagedThreadId;
                asked = r;
                return Sign(r);
            }))
            using (var client = new PaytrimAuthClient(id, cred, Options()))
            {
                string t = client.GetToken().Token;
                Assert.AreEqual(t, client.GetToken().Token);
                Assert.AreEqual(1, calls, "a cache hit does not ask the provider");
                client.RefreshToken();
                Assert.AreEqual(2, calls, "each request gets a fresh assertion");
            }
            Assert.AreNotEqual(me, thread, "asked on a library thread");
            Assert.AreEqual(id, asked.ClientId);
            Assert.AreEqual(Emu.Https + "/" + Options().Tenant + "/oauth2/v2.0/token", asked.Audience);
            Assert.AreEqual("RS256", Decode(AssertionsFor(id)[0], 0)["alg"]);
        }

        [Test]
        public void AsyncAssertionCallbackAnswersLater()
        {
            string id = NewCertificateClient();
            using (var cred = PaytrimCredential.FromAssertion(async (PaytrimAssertionRequest r, CancellationToken ct) =>
            {
                await Task.Delay(50, ct);
                return Sign(r);
            }))
            using (var client = new PaytrimAuthClient(id, cred, Options()))
            {
                var task = client.GetTokenAsync();
                Assert.IsTrue(task.Wait(30000));
                Assert.That(task.Result.Token, Is.Not.Empty);
            }
            Assert.AreEqual(1, AssertionsFor(id).Count);
        }

        [Test]
        public void SlowCallbackIsAskedOnceForManyWaiters()
        {
            string id = NewCertificateClient();
            var asked = new ManualResetEventSlim();
            var release = new ManualResetEventSlim();
            int calls = 0;
            using (var cred = PaytrimCredential.FromAssertion((PaytrimAssertionRequest r, CancellationToken ct) =>
            {
                Interlocked.Increment(ref calls);
                asked.Set();
                release.Wait(30000);
                return Sign(r);
            }))
            using (var client = new PaytrimAuthClient(id, cred, Options()))
            {
                var waiters = Enumerable.Range(0, 8).Select(_ => Task.Run(() => client.GetToken().Token)).ToArray();
                Assert.IsTrue(asked.Wait(30000));
                var other = Emu.NewClient();
                using (var unrelated = new PaytrimAuthClient(other.Id, other.Secret, Options()))
                    Assert.That(unrelated.GetToken().Token, Is.Not.Empty, "another client works while the signer blocks");
                release.Set();
                Assert.IsTrue(Task.WaitAll(waiters, 30000));
                Assert.AreEqual(1, waiters.Select(w => w.Result).Distinct().Count());
            }
            Assert.AreEqual(1, calls);
        }

        [Test]
        public void ThrowingNullOrSilentCallbacksAreClearErrors()
        {
            string id = NewCertificateClient();
            using (var cred = PaytrimCredential.FromAssertion(new Func<CancellationToken, string>(ct =>
            {
                throw new IOException("HSM offline");
            })))
            using (var client = new PaytrimAuthClient(id, cred, Options()))
            {
                var e = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                Assert.AreEqual(PaytrimAuthErrorCode.InvalidArgument, e.ErrorCode);
                StringAssert.Contains("System.IO.IOException: HSM offline", e.Message);
            }
            using (var cred = PaytrimCredential.FromAssertion(async (CancellationToken ct) =>
            {
                await Task.Yield();
                throw new InvalidOperationException("vault said no");
            }))
            using (var client = new PaytrimAuthClient(id, cred, Options()))
            {
                var e = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                StringAssert.Contains("InvalidOperationException: vault said no", e.Message);
            }
            using (var cred = PaytrimCredential.FromAssertion((CancellationToken ct) => (string)null))
            using (var client = new PaytrimAuthClient(id, cred, Options()))
            {
                StringAssert.Contains("returned null", Assert.Throws<PaytrimAuthException>(() => client.GetToken()).Message);
            }
            using (var cred = PaytrimCredential.FromAssertion((CancellationToken ct) => "not-a-jwt"))
            using (var client = new PaytrimAuthClient(id, cred, Options()))
            {
                var e = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                StringAssert.Contains("not a compact JWT", e.Message);
                StringAssert.DoesNotContain("not-a-jwt", e.Message);
            }
            // A task that never completes: the fetch fails when its budget ends, and the provider's
            // CancellationToken fires.
            var cancelled = new ManualResetEventSlim();
            var opts = Options();
            opts.TotalTimeout = TimeSpan.FromMilliseconds(800);
            var sw = Stopwatch.StartNew();
            using (var cred = PaytrimCredential.FromAssertion((CancellationToken ct) =>
            {
                var never = new TaskCompletionSource<string>();
                ct.Register(() => cancelled.Set());
                return never.Task;
            }, TimeSpan.FromSeconds(1)))
            using (var client = new PaytrimAuthClient(id, cred, opts))
            {
                var e = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                StringAssert.Contains("no answer within", e.Message);
            }
            Assert.Less(sw.Elapsed.TotalSeconds, 20);
            Assert.IsTrue(cancelled.Wait(30000), "the provider's token is cancelled after its timeout");
        }

        [Test]
        public void FederatedTokenFileIsSentAsTheAssertion()
        {
            string iss = "https://oidc.example/" + Guid.NewGuid();
            const string sub = "system:serviceaccount:payments:api";
            string id = Guid.NewGuid().ToString();
            Emu.Post("/_emulator/clients", "{\"client_id\":" + Json.Quote(id) + ",\"federated_issuer\":" + Json.Quote(iss) + ",\"federated_subject\":" + Json.Quote(sub) + "}");
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            string jwt = B64Url(Encoding.UTF8.GetBytes("{\"alg\":\"RS256\",\"typ\":\"JWT\"}")) + "."
                + B64Url(Encoding.UTF8.GetBytes("{\"iss\":" + Json.Quote(iss) + ",\"sub\":" + Json.Quote(sub)
                    + ",\"aud\":\"api://AzureADTokenExchange\",\"iat\":" + now + ",\"nbf\":" + now + ",\"exp\":" + (now + 3600) + "}"))
                + "." + B64Url(new byte[] { 1, 2 });
            string file = Path.Combine(_dir, "federated.jwt");
            File.WriteAllText(file, jwt);
            using (var cred = PaytrimCredential.FromFederatedTokenFile(file))
            using (var client = new PaytrimAuthClient(id, cred, Options()))
                Assert.That(client.GetToken().Token, Is.Not.Empty);
            Assert.AreEqual(jwt, AssertionsFor(id)[0]);
            File.WriteAllText(file, "");
            StringAssert.Contains(file, Assert.Throws<PaytrimAuthException>(() => PaytrimCredential.FromFederatedTokenFile(file)).Message);
        }

        private static List<Dictionary<string, object>> ManagedIdentityRequests(string path, string resource)
        {
            return Emu.Requests().Where(r =>
            {
                object q;
                if (!((string)r["path"]).ToLowerInvariant().Contains(path) || !r.TryGetValue("query", out q) || q == null) return false;
                var query = (Dictionary<string, object>)q;
                return query.ContainsKey("resource") && (string)query["resource"] == resource;
            }).ToList();
        }

        [Test]
        public void ManagedIdentityThroughImdsAndAppService()
        {
            var ready = (Dictionary<string, object>)Json.Parse(Emu.Get("/_emulator/managed_identity"));
            string resource = "api://paytrim-" + Guid.NewGuid();
            using (var client = PaytrimAuthClient.ManagedIdentity(null, new PaytrimAuthOptions { ImdsEndpoint = Emu.Http, Scope = resource + "/.default" }))
            {
                string t = client.GetToken().Token;
                Assert.AreEqual(t, client.GetToken().Token);
                Assert.AreEqual(resource, Decode(t, 1)["aud"]);
            }
            var imds = ManagedIdentityRequests("/metadata/identity/oauth2/token", resource);
            Assert.AreEqual(1, imds.Count, "one request, then the cache");
            Assert.AreEqual("true", ((Dictionary<string, object>)imds[0]["headers"])["metadata"]);

            string ua = Guid.NewGuid().ToString();
            Emu.Post("/_emulator/managed_identity", "{\"user_assigned\":{\"client_id\":" + Json.Quote(ua) + "}}");
            string resource2 = "api://paytrim-" + Guid.NewGuid();
            var opts = new PaytrimAuthOptions
            {
                IdentityEndpoint = Emu.Http + "/msi/token",
                IdentityHeader = (string)ready["identity_header"],
                Scope = resource2 + "/.default",
            };
            using (var client = PaytrimAuthClient.ManagedIdentity(PaytrimManagedIdentity.FromClientId(ua), opts))
                Assert.AreEqual(ua, Decode(client.GetToken().Token, 1)["appid"]);
            var app = ManagedIdentityRequests("/msi/token", resource2);
            Assert.AreEqual(1, app.Count);
            Assert.AreEqual(ua, ((Dictionary<string, object>)app[0]["query"])["client_id"]);

            using (var client = PaytrimAuthClient.ManagedIdentity(PaytrimManagedIdentity.FromObjectId(Guid.NewGuid().ToString()),
                new PaytrimAuthOptions { ImdsEndpoint = Emu.Http, Scope = resource + "/.default", MaxAttempts = 1 }))
            {
                var e = Assert.Throws<PaytrimAuthException>(() => client.GetToken());
                StringAssert.Contains("identity", e.Message.ToLowerInvariant());
            }
        }

        /// <summary>Runs tests/env/EnvProbe.exe (FromEnvironment, then GetToken) with a clean environment plus <paramref name="vars"/>.</summary>
        internal static string RunEnvProbe(out int exitCode, params string[] vars)
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
                if (k.StartsWith("PAYTRIM_") || k.StartsWith("AZURE_") || k.StartsWith("IDENTITY_") || k.StartsWith("IMDS_")
                    || k.ToLowerInvariant().EndsWith("_proxy"))
                    env.Remove(k);
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
        public void EnvironmentFactoryPicksTheCredentialInAChildProcess()
        {
            string id = NewCertificateClient();
            int code;
            string output = RunEnvProbe(out code,
                "PAYTRIM_CLIENT_ID", id,
                "PAYTRIM_TENANT_ID", "contoso.onmicrosoft.com",
                "PAYTRIM_AUTHORITY_HOST", Emu.Https,
                "PAYTRIM_CA_FILE", Emu.CaFile,
                "AZURE_CLIENT_CERTIFICATE_PATH", _pfx,
                "AZURE_CLIENT_CERTIFICATE_PASSWORD", Password);
            Assert.AreEqual(0, code, output);
            StringAssert.Contains("token-length=", output);
            Assert.AreEqual(1, AssertionsFor(id).Count, "the certificate from AZURE_* was used");

            output = RunEnvProbe(out code, "AZURE_CLIENT_SECRET", "s");
            Assert.AreEqual(2, code, output);
            StringAssert.Contains("InvalidArgument", output);
            StringAssert.Contains("AZURE_CLIENT_ID", output);
            StringAssert.Contains("AZURE_TENANT_ID", output);

            output = RunEnvProbe(out code, "AZURE_CLIENT_ID", id, "AZURE_TENANT_ID", "t",
                "AZURE_CLIENT_SECRET", "s", "AZURE_FEDERATED_TOKEN_FILE", "/x");
            Assert.AreEqual(2, code, output);
            StringAssert.Contains("AZURE_CLIENT_SECRET and AZURE_FEDERATED_TOKEN_FILE", output);
        }
    }
}
