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
    public sealed class PaytrimAuthClient : IDisposable
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
            PaytrimAuthLibrary.EnsureLoaded();

            IntPtr config = NativeMethods.paytrim_auth_config_new();
            byte[] id = NativeMethods.ToUtf8(clientId);
            byte[] secret = NativeMethods.ToUtf8(clientSecret);
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
                IntPtr err = NativeMethods.paytrim_auth_client_new(id, secret, config, out handle);
                if (err != IntPtr.Zero)
                {
                    handle.Dispose();
                    throw PaytrimAuthException.Take(err);
                }
                _handle = handle;
            }
            finally
            {
                Array.Clear(secret, 0, secret.Length);
                NativeMethods.paytrim_auth_config_free(config);
            }
        }

        /// <summary>
        /// A valid token: from the cache (no I/O) or fetched now, sharing one request with every
        /// concurrent caller. Blocks the calling thread during a fetch (at most the total timeout);
        /// use <see cref="GetTokenAsync"/> to avoid that.
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
        /// The non-blocking <see cref="RefreshToken"/>: drops the cached token of this client's key
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
        /// <see cref="ObjectDisposedException"/>. Pending <see cref="GetTokenAsync"/> tasks still
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
