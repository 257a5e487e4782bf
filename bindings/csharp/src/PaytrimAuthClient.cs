using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace Paytrim.Auth
{
    /// <summary>
    /// Gets OAuth 2.0 client-credentials tokens from Microsoft Entra ID through the native
    /// paytrim-auth core: cached process-wide (clients with the same endpoint, client id,
    /// secret and scopes share one token), one HTTP request for all concurrent callers,
    /// retries, and refresh before expiry. Thread-safe: share one instance. Dispose it when
    /// done; <see cref="Dispose"/> is idempotent and safe to call while other threads use it.
    /// </summary>
    public sealed partial class PaytrimAuthClient : IDisposable
    {
        // One delegate for the whole process: the native side may call it at any time
        // (a fetch may land after the client is disposed), so it is never collected.
        private static readonly NativeMethods.TokenCallback AsyncCallback = OnTokenAsync;

        private static readonly Action<object> CancelCallback = s =>
        {
            var st = (AsyncState)s;
            st.Tcs.TrySetCanceled(st.CancellationToken);
        };

        private readonly PaytrimAuthClientHandle _handle;

        // The last token handed out: a hit returns the same immutable AccessToken without
        // decoding the native copy again (see TokenSnapshot).
        private TokenSnapshot _last;

        /// <summary>Creates a client with the library's defaults. Sends no request.</summary>
        public PaytrimAuthClient(string clientId, string clientSecret)
            : this(clientId, clientSecret, null)
        {
        }

        /// <summary>
        /// Creates a client. Sends no request. Throws <see cref="ArgumentNullException"/> for a
        /// null id or secret, <see cref="PaytrimAuthException"/> (InvalidArgument) for an empty one
        /// or a bad option.
        /// </summary>
        public PaytrimAuthClient(string clientId, string clientSecret, PaytrimAuthOptions options)
        {
            if (clientId == null) throw new ArgumentNullException("clientId");
            if (clientSecret == null) throw new ArgumentNullException("clientSecret");
            byte[] id = NativeMethods.ToUtf8(clientId);
            byte[] secret = NativeMethods.ToUtf8(clientSecret);
            try
            {
                _handle = Create(options, (IntPtr config, out PaytrimAuthClientHandle h) =>
                    NativeMethods.paytrim_auth_client_new(id, secret, config, out h));
            }
            finally
            {
                Array.Clear(secret, 0, secret.Length);
            }
        }

        /// <summary>
        /// Creates a client for <paramref name="clientId"/> that authenticates with
        /// <paramref name="credential"/> (a certificate, an assertion callback, a federated token
        /// file or a secret; see <see cref="PaytrimCredential"/>). The client keeps its own
        /// reference: the credential may be disposed right after. Sends no request.
        /// </summary>
        public PaytrimAuthClient(string clientId, PaytrimCredential credential, PaytrimAuthOptions options = null)
        {
            if (clientId == null) throw new ArgumentNullException("clientId");
            if (credential == null) throw new ArgumentNullException("credential");
            byte[] id = NativeMethods.ToUtf8(clientId);
            PaytrimCredentialHandle cred = credential.Handle;
            _handle = Create(options, (IntPtr config, out PaytrimAuthClientHandle h) =>
                NativeMethods.paytrim_auth_client_new_with_credential(id, cred, config, out h));
        }

        private PaytrimAuthClient(PaytrimAuthClientHandle handle)
        {
            _handle = handle;
        }

        /// <summary>
        /// A client configured from the environment: <c>PAYTRIM_*</c> variables first, then the
        /// Azure conventions (<c>AZURE_CLIENT_ID</c>, <c>AZURE_TENANT_ID</c>,
        /// <c>AZURE_CLIENT_SECRET</c>, <c>AZURE_CLIENT_CERTIFICATE_PATH</c>,
        /// <c>AZURE_CLIENT_CERTIFICATE_PASSWORD</c>, <c>AZURE_CLIENT_SEND_CERTIFICATE_CHAIN</c>,
        /// <c>AZURE_FEDERATED_TOKEN_FILE</c>, <c>AZURE_AUTHORITY_HOST</c>), on top of
        /// <paramref name="options"/> (the variables' tenant and authority replace its own). The
        /// credential is chosen from what is set, never by trying. Throws
        /// <see cref="PaytrimAuthException"/> (InvalidArgument) naming the variables that are
        /// missing or conflict. Sends no request.
        /// </summary>
        public static PaytrimAuthClient FromEnvironment(PaytrimAuthOptions options = null)
        {
            return new PaytrimAuthClient(Create(options, (IntPtr config, out PaytrimAuthClientHandle h) =>
                NativeMethods.paytrim_auth_client_new_from_environment(config, out h)));
        }

        /// <summary>
        /// A client that gets its tokens from an Azure managed identity (IMDS on VMs, the App
        /// Service endpoint on App Service, Functions and Container Apps): no client id or secret.
        /// <paramref name="identity"/> null means the system-assigned identity. The resource is the
        /// one <see cref="PaytrimAuthOptions.Scope"/> (<c>https://management.azure.com/.default</c>
        /// asks for <c>https://management.azure.com</c>). The endpoint comes from
        /// <see cref="PaytrimAuthOptions.IdentityEndpoint"/>, <see cref="PaytrimAuthOptions.ImdsEndpoint"/>,
        /// else the variables Azure sets (<c>IDENTITY_ENDPOINT</c> + <c>IDENTITY_HEADER</c>,
        /// <c>IMDS_ENDPOINT</c>), else IMDS. Sends no request.
        /// </summary>
        public static PaytrimAuthClient ManagedIdentity(PaytrimManagedIdentity identity = null, PaytrimAuthOptions options = null)
        {
            byte[] id = NativeMethods.ToUtf8((identity ?? PaytrimManagedIdentity.SystemAssigned).Spec);
            return new PaytrimAuthClient(Create(options, (IntPtr config, out PaytrimAuthClientHandle h) =>
                NativeMethods.paytrim_auth_client_new_managed_identity(id, config, out h)));
        }

        private delegate IntPtr NewClient(IntPtr config, out PaytrimAuthClientHandle handle);

        /// <summary>Builds the native configuration from <paramref name="options"/> and calls <paramref name="make"/>.</summary>
        private static PaytrimAuthClientHandle Create(PaytrimAuthOptions options, NewClient make)
        {
            PaytrimAuthLibrary.EnsureLoaded();
            IntPtr config = NativeMethods.paytrim_auth_config_new();
            try
            {
                if (options != null)
                {
                    foreach (var kv in options.ToPairs())
                    {
                        PaytrimAuthException.ThrowIfError(NativeMethods.paytrim_auth_config_set(
                            config, NativeMethods.ToUtf8(kv.Key), NativeMethods.ToUtf8(kv.Value)));
                    }
                }
                PaytrimAuthClientHandle handle;
                IntPtr err = make(config, out handle);
                if (err != IntPtr.Zero)
                {
                    handle.Dispose();
                    throw PaytrimAuthException.Take(err);
                }
                handle.Opened();
                return handle;
            }
            finally
            {
                NativeMethods.paytrim_auth_config_free(config);
            }
        }

        /// <summary>
        /// A valid token: from the cache (no I/O) or fetched now, sharing one request with every
        /// concurrent caller. Blocks the calling thread during a fetch (at most the total timeout);
        /// use <see cref="GetTokenAsync(CancellationToken)"/> to avoid that.
        /// </summary>
        public AccessToken GetToken()
        {
            ThrowIfDisposed();
            IntPtr token;
            long expires;
            IntPtr err;
            try
            {
                err = NativeMethods.paytrim_auth_client_get_token(_handle, out token, out expires);
            }
            catch (ObjectDisposedException)
            {
                throw Disposed();
            }
            PaytrimAuthException.ThrowIfError(err);
            return TakeToken(token, expires);
        }

        /// <summary>
        /// The token as the documented JSON:
        /// <c>{"token_type":"Bearer","expires_in":&lt;seconds left&gt;,"access_token":"..."}</c>.
        /// </summary>
        public string GetTokenJson()
        {
            ThrowIfDisposed();
            IntPtr json;
            IntPtr err;
            try
            {
                err = NativeMethods.paytrim_auth_client_get_token_json(_handle, out json);
            }
            catch (ObjectDisposedException)
            {
                throw Disposed();
            }
            PaytrimAuthException.ThrowIfError(err);
            return NativeMethods.TakeString(json);
        }

        /// <summary>
        /// Drops the cached token of this client's key and fetches a new one (joining a fetch in
        /// progress). Call it after the API answered 401 to a token.
        /// </summary>
        public AccessToken RefreshToken()
        {
            ThrowIfDisposed();
            IntPtr token;
            long expires;
            IntPtr err;
            try
            {
                err = NativeMethods.paytrim_auth_client_refresh_token(_handle, out token, out expires);
            }
            catch (ObjectDisposedException)
            {
                throw Disposed();
            }
            PaytrimAuthException.ThrowIfError(err);
            return TakeToken(token, expires);
        }

        /// <summary>The cached token if one is valid now, else null. Never blocks.</summary>
        public AccessToken TryGetCachedToken()
        {
            ThrowIfDisposed();
            IntPtr token;
            long expires;
            IntPtr err;
            try
            {
                err = NativeMethods.paytrim_auth_client_get_cached_token(_handle, out token, out expires);
            }
            catch (ObjectDisposedException)
            {
                throw Disposed();
            }
            PaytrimAuthException.ThrowIfError(err);
            return token == IntPtr.Zero ? null : TakeToken(token, expires);
        }

        /// <summary>
        /// A valid token without blocking any thread: a cache hit returns an already completed
        /// task; a miss joins the shared fetch, which runs on a library-owned thread, and the task
        /// completes when it lands (continuations run asynchronously, never on that thread).
        /// Cancelling completes the task as cancelled; the shared fetch goes on for other callers.
        /// </summary>
        public Task<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            ThrowIfDisposed();
            if (cancellationToken.IsCancellationRequested)
                return Task.FromCanceled<AccessToken>(cancellationToken);

            AccessToken cached = TryGetCachedToken();
            if (cached != null)
                return Task.FromResult(cached);
            return StartAsync(false, cancellationToken);
        }

        /// <summary>
        /// The non-blocking <see cref="RefreshToken()"/>: drops the cached token of this client's key
        /// and fetches a new one (joining a fetch in progress) without blocking any thread.
        /// Cancelling completes the task as cancelled; the shared fetch goes on.
        /// </summary>
        public Task<AccessToken> RefreshTokenAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            ThrowIfDisposed();
            if (cancellationToken.IsCancellationRequested)
                return Task.FromCanceled<AccessToken>(cancellationToken);
            return StartAsync(true, cancellationToken);
        }

        // Starts a native async call whose callback completes the returned task.
        private Task<AccessToken> StartAsync(bool refresh, CancellationToken cancellationToken)
        {
            return StartAsync(refresh, null, cancellationToken);
        }

        // As above; scopes (UTF-8, space-separated) non-null: for that scope set.
        private Task<AccessToken> StartAsync(bool refresh, byte[] scopes, CancellationToken cancellationToken)
        {
            var state = new AsyncState(this);
            if (cancellationToken.CanBeCanceled)
            {
                state.CancellationToken = cancellationToken;
                state.Registration = cancellationToken.Register(CancelCallback, state, false);
            }
            GCHandle gch = GCHandle.Alloc(state);
            IntPtr err;
            try
            {
                if (scopes != null)
                    err = refresh
                        ? NativeMethods.paytrim_auth_client_refresh_token_for_scopes_async(_handle, scopes, AsyncCallback, GCHandle.ToIntPtr(gch))
                        : NativeMethods.paytrim_auth_client_get_token_for_scopes_async(_handle, scopes, AsyncCallback, GCHandle.ToIntPtr(gch));
                else
                    err = refresh
                        ? NativeMethods.paytrim_auth_client_refresh_token_async(_handle, AsyncCallback, GCHandle.ToIntPtr(gch))
                        : NativeMethods.paytrim_auth_client_get_token_async(_handle, AsyncCallback, GCHandle.ToIntPtr(gch));
            }
            catch (ObjectDisposedException)
            {
                // Disposed since ThrowIfDisposed: the marshaller refused the closed handle, so the
                // callback will never run.
                gch.Free();
                state.Registration.Dispose();
                throw Disposed();
            }
            catch
            {
                // Not called: the callback will never run.
                gch.Free();
                state.Registration.Dispose();
                throw;
            }
            if (err != IntPtr.Zero)
            {
                // Bad arguments: no callback.
                gch.Free();
                state.Registration.Dispose();
                throw PaytrimAuthException.Take(err);
            }
            return state.Tcs.Task;
        }

        /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
        public bool IsDisposed
        {
            get { return _handle.IsClosed; }
        }

        /// <summary>
        /// Frees the native client (after any call in progress on another thread has returned).
        /// Idempotent and thread-safe. Afterwards every method throws
        /// <see cref="ObjectDisposedException"/>. Pending <see cref="GetTokenAsync(CancellationToken)"/> tasks still
        /// complete.
        /// </summary>
        public void Dispose()
        {
            _handle.Dispose();
        }

        /// <summary>No secret or token: only the type name.</summary>
        public override string ToString()
        {
            return IsDisposed ? "PaytrimAuthClient (disposed)" : "PaytrimAuthClient";
        }

        /// <summary>Materializes then frees (in a finally) a token string the library handed over.</summary>
        private AccessToken TakeToken(IntPtr token, long expires)
        {
            try
            {
                return Materialize(token, expires);
            }
            finally
            {
                NativeMethods.paytrim_auth_string_free(token);
            }
        }

        /// <summary>The AccessToken for a (borrowed) native token: the previous one if unchanged.</summary>
        private AccessToken Materialize(IntPtr token, long expires)
        {
            TokenSnapshot last = Volatile.Read(ref _last);
            if (last != null && last.Matches(token, expires)) return last.Token;
            TokenSnapshot fresh = TokenSnapshot.Create(token, expires);
            Volatile.Write(ref _last, fresh);
            return fresh.Token;
        }

        // Use after Dispose: one exception, whichever check sees it first. The handle may be closed
        // between ThrowIfDisposed and the import's marshalling, whose SafeHandle check throws its
        // own ObjectDisposedException ("Safe handle has been closed", no object name); every
        // import call turns that into this one.
        private void ThrowIfDisposed()
        {
            if (_handle.IsClosed) throw Disposed();
        }

        private static ObjectDisposedException Disposed()
        {
            return new ObjectDisposedException(typeof(PaytrimAuthClient).FullName);
        }

        private sealed class AsyncState
        {
            internal AsyncState(PaytrimAuthClient client)
            {
                Client = client;
            }

            internal readonly PaytrimAuthClient Client;
            internal readonly TaskCompletionSource<AccessToken> Tcs =
                new TaskCompletionSource<AccessToken>(TaskCreationOptions.RunContinuationsAsynchronously);
            internal CancellationTokenRegistration Registration;
            internal CancellationToken CancellationToken;
        }

        // Runs exactly once per successful paytrim_auth_client_get_token_async: inline on a cache
        // hit or immediate failure, else on a library-owned thread. token and error are borrowed.
        // Must never throw into native code.
        private static void OnTokenAsync(IntPtr userData, IntPtr token, long expiresOnUnixMs, IntPtr error)
        {
            AsyncState state = null;
            try
            {
                GCHandle gch = GCHandle.FromIntPtr(userData);
                state = (AsyncState)gch.Target;
                gch.Free();
                if (error != IntPtr.Zero)
                    state.Tcs.TrySetException(PaytrimAuthException.FromNative(error));
                else
                    state.Tcs.TrySetResult(state.Client.Materialize(token, expiresOnUnixMs));
            }
            catch (Exception e)
            {
                if (state != null) state.Tcs.TrySetException(e);
            }
            finally
            {
                if (state != null) state.Registration.Dispose();
            }
        }
    }
}
