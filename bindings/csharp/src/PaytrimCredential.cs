using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Paytrim.Auth
{
    /// <summary>How a certificate credential signs its client assertions.</summary>
    public enum PaytrimSigningAlgorithm
    {
        /// <summary>RSASSA-PSS with SHA-256 (the default).</summary>
        PS256,
        /// <summary>RSASSA-PKCS1-v1_5 with SHA-256; the header also carries <c>x5t</c>.</summary>
        RS256,
    }

    /// <summary>
    /// What a client proves its identity with: a certificate (a freshly signed client assertion
    /// per request), an application callback that supplies assertions (keys in an HSM or a key
    /// vault), a federated token file (workload identity), or a client secret. Pass it to
    /// <c>new PaytrimAuthClient(clientId, credential, options)</c>; the client
    /// keeps its own reference, so the credential may be disposed right after. Key material and
    /// passwords never appear in errors, logs or <see cref="ToString"/>.
    /// </summary>
    public sealed class PaytrimCredential : IDisposable
    {
        // One delegate of each kind for the whole process: the library may call them from its own
        // threads at any time until it calls FreeProvider, so they are never collected.
        private static readonly NativeMethods.AssertionCallback AssertionThunk = OnAssertion;
        private static readonly NativeMethods.FreeCallback FreeThunk = FreeProvider;

        private readonly PaytrimCredentialHandle _handle;
        private readonly string _kind;

        private PaytrimCredential(PaytrimCredentialHandle handle, string kind)
        {
            _handle = handle;
            _kind = kind;
        }

        internal PaytrimCredentialHandle Handle
        {
            get
            {
                if (_handle.IsClosed) throw new ObjectDisposedException(typeof(PaytrimCredential).FullName);
                return _handle;
            }
        }

        private delegate IntPtr Make(out PaytrimCredentialHandle handle);

        private static PaytrimCredential Create(string kind, Make make)
        {
            PaytrimAuthLibrary.EnsureLoaded();
            PaytrimCredentialHandle h;
            IntPtr err = make(out h);
            if (err != IntPtr.Zero)
            {
                h.Dispose();
                throw PaytrimAuthException.Take(err);
            }
            return new PaytrimCredential(h, kind);
        }

        private static void Utf8Wiped(string s, Action<byte[]> use)
        {
            byte[] b = NativeMethods.ToUtf8(s);
            try
            {
                use(b);
            }
            finally
            {
                if (b != null) Array.Clear(b, 0, b.Length);
            }
        }

        /// <summary>A client secret (what <c>new PaytrimAuthClient(id, secret)</c> uses).</summary>
        public static PaytrimCredential FromSecret(string clientSecret)
        {
            if (clientSecret == null) throw new ArgumentNullException("clientSecret");
            PaytrimCredential result = null;
            Utf8Wiped(clientSecret, b => result = Create("secret",
                (out PaytrimCredentialHandle h) => NativeMethods.paytrim_auth_credential_from_secret(b, out h)));
            return result;
        }

        /// <summary>
        /// A certificate from a file: PEM (certificate chain, leaf first, plus the RSA private key
        /// as PKCS#8, PKCS#1 or encrypted PKCS#8) or PKCS#12 (<c>.pfx</c>/<c>.p12</c>), told apart
        /// by content. <paramref name="password"/> (null for none) decrypts the key or the PKCS#12
        /// file. Read and checked now: an expired or not-yet-valid certificate, a key that does
        /// not match it, a non-RSA key or a wrong password throws <see cref="PaytrimAuthException"/>
        /// (InvalidArgument) naming the file.
        /// </summary>
        public static PaytrimCredential FromCertificateFile(string path, string password = null)
        {
            if (path == null) throw new ArgumentNullException("path");
            byte[] p = NativeMethods.ToUtf8(path);
            PaytrimCredential result = null;
            Utf8Wiped(password, pw => result = Create("certificate",
                (out PaytrimCredentialHandle h) => NativeMethods.paytrim_auth_credential_from_certificate_file(p, pw, out h)));
            return result;
        }

        /// <summary>
        /// A certificate from PEM text: <paramref name="certificatePem"/> the chain (leaf first),
        /// <paramref name="privateKeyPem"/> the RSA private key (they may be the same text);
        /// <paramref name="password"/> (null for none) decrypts an encrypted PKCS#8 key.
        /// </summary>
        public static PaytrimCredential FromCertificatePem(string certificatePem, string privateKeyPem, string password = null)
        {
            if (certificatePem == null) throw new ArgumentNullException("certificatePem");
            if (privateKeyPem == null) throw new ArgumentNullException("privateKeyPem");
            byte[] cert = NativeMethods.ToUtf8(certificatePem);
            PaytrimCredential result = null;
            Utf8Wiped(privateKeyPem, key => Utf8Wiped(password, pw => result = Create("certificate",
                (out PaytrimCredentialHandle h) => NativeMethods.paytrim_auth_credential_from_certificate_pem(cert, key, pw, out h))));
            return result;
        }

        /// <summary>
        /// A certificate from a PKCS#12 (<c>.pfx</c>) archive in memory (for example
        /// <c>X509Certificate2.Export(X509ContentType.Pfx, password)</c>), with
        /// <paramref name="password"/> (null for none). Checked as for <see cref="FromCertificateFile"/>.
        /// </summary>
        public static PaytrimCredential FromPkcs12(byte[] pfx, string password = null)
        {
            if (pfx == null) throw new ArgumentNullException("pfx");
            PaytrimCredential result = null;
            Utf8Wiped(password, pw => result = Create("certificate",
                (out PaytrimCredentialHandle h) => NativeMethods.paytrim_auth_credential_from_pkcs12(pfx, (UIntPtr)pfx.Length, pw, out h)));
            return result;
        }

        /// <summary>
        /// Workload identity federation: the client assertion is the federated token in the file
        /// at <paramref name="path"/> (as <c>AZURE_FEDERATED_TOKEN_FILE</c> names it), re-read when
        /// it changes and at least every 5 minutes. Unreadable or empty: an error naming the path.
        /// </summary>
        public static PaytrimCredential FromFederatedTokenFile(string path)
        {
            if (path == null) throw new ArgumentNullException("path");
            byte[] p = NativeMethods.ToUtf8(path);
            return Create("federated token file",
                (out PaytrimCredentialHandle h) => NativeMethods.paytrim_auth_credential_from_federated_token_file(p, out h));
        }

        /// <summary>
        /// Client assertions from <paramref name="provider"/>, called once per token request (never
        /// on a cache hit) on a library-owned thread with the request (client id and audience, the
        /// token endpoint); it returns a signed JWT. It may block while it signs: the fetch waits at
        /// most until its time budget (<see cref="PaytrimAuthOptions.TotalTimeout"/>) ends. The
        /// <see cref="CancellationToken"/> is cancelled after <paramref name="timeout"/> (default
        /// 30 s, the default budget), when the library no longer waits for the answer. An exception
        /// or a null answer fails the fetch with a <see cref="PaytrimAuthException"/>
        /// (InvalidArgument) naming it.
        /// </summary>
        public static PaytrimCredential FromAssertion(Func<PaytrimAssertionRequest, CancellationToken, string> provider, TimeSpan? timeout = null)
        {
            if (provider == null) throw new ArgumentNullException("provider");
            return FromProvider(new Provider(provider, null, timeout));
        }

        /// <summary>
        /// <see cref="FromAssertion(Func{PaytrimAssertionRequest, CancellationToken, string}, TimeSpan?)"/>
        /// for a signer that answers later: the task completes with the signed JWT (or faults).
        /// The library thread does not wait on the task; the answer is handed over when it completes.
        /// </summary>
        public static PaytrimCredential FromAssertion(Func<PaytrimAssertionRequest, CancellationToken, Task<string>> provider, TimeSpan? timeout = null)
        {
            if (provider == null) throw new ArgumentNullException("provider");
            return FromProvider(new Provider(null, provider, timeout));
        }

        /// <summary>The simplest form: <c>ct =&gt; Sign(...)</c>, for a provider that needs no request details.</summary>
        public static PaytrimCredential FromAssertion(Func<CancellationToken, string> provider, TimeSpan? timeout = null)
        {
            if (provider == null) throw new ArgumentNullException("provider");
            return FromAssertion((PaytrimAssertionRequest r, CancellationToken ct) => provider(ct), timeout);
        }

        /// <summary>The simplest async form: <c>async ct =&gt; await SignAsync(...)</c>.</summary>
        public static PaytrimCredential FromAssertion(Func<CancellationToken, Task<string>> provider, TimeSpan? timeout = null)
        {
            if (provider == null) throw new ArgumentNullException("provider");
            return FromAssertion((PaytrimAssertionRequest r, CancellationToken ct) => provider(ct), timeout);
        }

        private static PaytrimCredential FromProvider(Provider provider)
        {
            GCHandle gch = GCHandle.Alloc(provider);
            try
            {
                return Create("assertion callback", (out PaytrimCredentialHandle h) =>
                    NativeMethods.paytrim_auth_credential_from_assertion_callback(
                        AssertionThunk, GCHandle.ToIntPtr(gch), FreeThunk, out h));
            }
            catch
            {
                // On error the library does not call FreeThunk: the handle is still ours.
                gch.Free();
                throw;
            }
        }

        /// <summary>Certificates: the signing algorithm (default PS256). Returns this object.</summary>
        public PaytrimCredential WithSigningAlgorithm(PaytrimSigningAlgorithm algorithm)
        {
            return Set("signing_algorithm", algorithm == PaytrimSigningAlgorithm.RS256 ? "RS256" : "PS256");
        }

        /// <summary>Certificates: send the chain as <c>x5c</c> (subject name + issuer registration). Returns this object.</summary>
        public PaytrimCredential WithCertificateChain(bool send = true)
        {
            return Set("send_certificate_chain", send ? "true" : "false");
        }

        /// <summary>Sets a credential option by its C ABI name (<c>paytrim_auth_credential_set</c>). Returns this object.</summary>
        public PaytrimCredential Set(string key, string value)
        {
            if (key == null) throw new ArgumentNullException("key");
            if (value == null) throw new ArgumentNullException("value");
            PaytrimAuthException.ThrowIfError(NativeMethods.paytrim_auth_credential_set(
                Handle, NativeMethods.ToUtf8(key), NativeMethods.ToUtf8(value)));
            return this;
        }

        /// <summary>Frees the native credential. Clients made from it keep working. Idempotent.</summary>
        public void Dispose()
        {
            _handle.Dispose();
        }

        /// <summary>The kind only, never key material.</summary>
        public override string ToString()
        {
            return "PaytrimCredential(" + _kind + (_handle.IsClosed ? ", disposed)" : ")");
        }

        // ---- assertion callback plumbing ----

        private sealed class Provider
        {
            internal readonly Func<PaytrimAssertionRequest, CancellationToken, string> Sync;
            internal readonly Func<PaytrimAssertionRequest, CancellationToken, Task<string>> Async;
            internal readonly TimeSpan Timeout;

            internal Provider(Func<PaytrimAssertionRequest, CancellationToken, string> sync,
                Func<PaytrimAssertionRequest, CancellationToken, Task<string>> async, TimeSpan? timeout)
            {
                Sync = sync;
                Async = async;
                Timeout = timeout ?? TimeSpan.FromSeconds(30);
                if (Timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException("timeout");
            }
        }

        /// <summary>The native completion, answered exactly once whatever the races.</summary>
        private sealed class Answer
        {
            private IntPtr _completion;
            private CancellationTokenSource _cts;

            internal Answer(IntPtr completion, CancellationTokenSource cts)
            {
                _completion = completion;
                _cts = cts;
            }

            internal void Complete(string assertion)
            {
                if (assertion == null)
                {
                    Fail("the provider returned null");
                    return;
                }
                IntPtr c = Take();
                if (c == IntPtr.Zero) return;
                byte[] b = NativeMethods.ToUtf8(assertion);
                try
                {
                    // An unusable answer fails the fetch with a clear error; the error returned here
                    // says the same, so it is only freed.
                    NativeMethods.paytrim_auth_error_free(NativeMethods.paytrim_auth_assertion_complete(c, b));
                }
                finally
                {
                    Array.Clear(b, 0, b.Length);
                }
            }

            internal void Fail(string message)
            {
                IntPtr c = Take();
                if (c == IntPtr.Zero) return;
                NativeMethods.paytrim_auth_error_free(NativeMethods.paytrim_auth_assertion_fail(c, NativeMethods.ToUtf8(message)));
            }

            private IntPtr Take()
            {
                IntPtr c = Interlocked.Exchange(ref _completion, IntPtr.Zero);
                CancellationTokenSource cts = Interlocked.Exchange(ref _cts, null);
                if (cts != null) cts.Dispose();
                return c;
            }
        }

        internal static string Describe(Exception e)
        {
            var agg = e as AggregateException;
            if (agg != null && agg.InnerExceptions.Count == 1) e = agg.InnerException;
            return "the provider threw " + e.GetType().FullName + ": " + e.Message;
        }

        // Called by the library on its own thread, once per token request. Never throws into
        // native code: every outcome answers the completion.
        private static void OnAssertion(IntPtr userData, IntPtr clientId, IntPtr audience, IntPtr completion)
        {
            Answer answer = null;
            try
            {
                var provider = (Provider)GCHandle.FromIntPtr(userData).Target;
                var cts = new CancellationTokenSource(provider.Timeout);
                answer = new Answer(completion, cts);
                var request = new PaytrimAssertionRequest(
                    NativeMethods.PtrToStringUtf8(clientId), NativeMethods.PtrToStringUtf8(audience));
                if (provider.Sync != null)
                {
                    answer.Complete(provider.Sync(request, cts.Token));
                    return;
                }
                Task<string> task = provider.Async(request, cts.Token);
                if (task == null)
                {
                    answer.Fail("the provider returned a null Task");
                    return;
                }
                Answer a = answer;
                task.ContinueWith(t =>
                {
                    if (t.IsFaulted) a.Fail(Describe(t.Exception));
                    else if (t.IsCanceled) a.Fail("the provider's task was cancelled");
                    else a.Complete(t.Result);
                }, TaskContinuationOptions.ExecuteSynchronously);
            }
            catch (Exception e)
            {
                if (answer != null) answer.Fail(Describe(e));
                else NativeMethods.paytrim_auth_error_free(NativeMethods.paytrim_auth_assertion_fail(completion, NativeMethods.ToUtf8(Describe(e))));
            }
        }

        // Called once by the library when no credential or client uses the provider any more.
        private static void FreeProvider(IntPtr userData)
        {
            try
            {
                GCHandle.FromIntPtr(userData).Free();
            }
            catch (Exception)
            {
                // Nothing sensible to do on a library thread.
            }
        }
    }

    /// <summary>
    /// What an assertion provider is asked to sign: a client assertion JWT (RFC 7523) with
    /// <c>aud</c> = <see cref="Audience"/> (the token endpoint), <c>iss</c> = <c>sub</c> =
    /// <see cref="ClientId"/>, a unique <c>jti</c>, and <c>exp</c> a few minutes ahead.
    /// </summary>
    public sealed class PaytrimAssertionRequest
    {
        internal PaytrimAssertionRequest(string clientId, string audience)
        {
            ClientId = clientId;
            Audience = audience;
        }

        /// <summary>The client id: the assertion's <c>iss</c> and <c>sub</c>.</summary>
        public string ClientId { get; private set; }

        /// <summary>The token endpoint URL: the assertion's <c>aud</c>.</summary>
        public string Audience { get; private set; }
    }

    /// <summary>An Azure managed identity: system-assigned, or user-assigned by client id, object id or resource id.</summary>
    public sealed class PaytrimManagedIdentity
    {
        private PaytrimManagedIdentity(string spec)
        {
            Spec = spec;
        }

        internal string Spec { get; private set; }

        /// <summary>The host's system-assigned identity.</summary>
        public static readonly PaytrimManagedIdentity SystemAssigned = new PaytrimManagedIdentity("system");

        /// <summary>A user-assigned identity by its client (application) id.</summary>
        public static PaytrimManagedIdentity FromClientId(string clientId)
        {
            return new PaytrimManagedIdentity("client_id:" + Require(clientId, "clientId"));
        }

        /// <summary>A user-assigned identity by its object (principal) id.</summary>
        public static PaytrimManagedIdentity FromObjectId(string objectId)
        {
            return new PaytrimManagedIdentity("object_id:" + Require(objectId, "objectId"));
        }

        /// <summary>A user-assigned identity by its resource id (<c>/subscriptions/.../userAssignedIdentities/NAME</c>).</summary>
        public static PaytrimManagedIdentity FromResourceId(string resourceId)
        {
            return new PaytrimManagedIdentity("resource_id:" + Require(resourceId, "resourceId"));
        }

        private static string Require(string v, string name)
        {
            if (v == null) throw new ArgumentNullException(name);
            return v;
        }

        /// <summary><c>system</c>, <c>client_id:...</c>, <c>object_id:...</c> or <c>resource_id:...</c>.</summary>
        public override string ToString()
        {
            return Spec;
        }
    }
}
