using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Paytrim.Auth
{
    // Per-call scopes: tokens for other scope sets than the configured one, on this client.
    public sealed partial class PaytrimAuthClient
    {
        /// <summary>
        /// A valid token for <paramref name="scopes"/> instead of the configured scope (same
        /// credential and options), e.g. <c>client.GetToken("api://orders/.default")</c>. Each scope
        /// set has its own cache entry, single flight, background refresh and throttle memory in the
        /// library; the configured scopes give this client's own entry. The first call for a set
        /// prepares its request (no I/O); up to 64 sets are kept per client, least recently used
        /// dropped first. Blocks during a fetch, like <see cref="GetToken()"/>.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="scopes"/> is null.</exception>
        /// <exception cref="ArgumentException">No scope, or a null or empty scope, or one with
        /// whitespace or control characters.</exception>
        /// <exception cref="PaytrimAuthException">No token could be obtained (for a managed identity,
        /// also more than one scope: a token is for one resource).</exception>
        public AccessToken GetToken(params string[] scopes)
        {
            return ScopedToken(scopes, ScopedCall.Get);
        }

        /// <summary><see cref="GetToken(string[])"/> for a list of scopes.</summary>
        public AccessToken GetToken(IEnumerable<string> scopes)
        {
            return GetToken(ToArray(scopes));
        }

        /// <summary>That scope set's cached token if one is valid now, else null. Never blocks.</summary>
        public AccessToken TryGetCachedToken(params string[] scopes)
        {
            return ScopedToken(scopes, ScopedCall.Cached);
        }

        /// <summary>
        /// Drops that scope set's cached token only and fetches a new one (see
        /// <see cref="GetToken(string[])"/>).
        /// </summary>
        public AccessToken RefreshToken(params string[] scopes)
        {
            return ScopedToken(scopes, ScopedCall.Refresh);
        }

        /// <summary>
        /// <see cref="GetToken(string[])"/> without blocking any thread, like
        /// <see cref="GetTokenAsync(CancellationToken)"/>: <c>await client.GetTokenAsync(new[] { "api://orders/.default" })</c>.
        /// (No <c>params</c> overload: it would make <c>GetTokenAsync()</c> ambiguous.)
        /// </summary>
        public Task<AccessToken> GetTokenAsync(IEnumerable<string> scopes, CancellationToken cancellationToken = default(CancellationToken))
        {
            string[] list = ToArray(scopes);
            byte[] s = ScopesUtf8(list);
            ThrowIfDisposed();
            if (cancellationToken.IsCancellationRequested)
                return Task.FromCanceled<AccessToken>(cancellationToken);
            AccessToken cached = TryGetCachedToken(list);
            if (cached != null)
                return Task.FromResult(cached);
            return StartAsync(false, s, cancellationToken);
        }

        /// <summary>The non-blocking <see cref="RefreshToken(string[])"/>.</summary>
        public Task<AccessToken> RefreshTokenAsync(IEnumerable<string> scopes, CancellationToken cancellationToken = default(CancellationToken))
        {
            byte[] s = ScopesUtf8(ToArray(scopes));
            ThrowIfDisposed();
            if (cancellationToken.IsCancellationRequested)
                return Task.FromCanceled<AccessToken>(cancellationToken);
            return StartAsync(true, s, cancellationToken);
        }

        // Which native getter ScopedToken calls.
        private enum ScopedCall { Get, Cached, Refresh }

        // The body of the scoped getters: checks and joins the scopes, calls the getter `call`
        // names, and returns its token (null when Cached finds none valid).
        private AccessToken ScopedToken(string[] scopes, ScopedCall call)
        {
            byte[] s = ScopesUtf8(scopes);
            ThrowIfDisposed();
            IntPtr token;
            long expires;
            IntPtr err;
            try
            {
                switch (call)
                {
                    case ScopedCall.Get:
                        err = NativeMethods.paytrim_auth_client_get_token_for_scopes(_handle, s, out token, out expires);
                        break;
                    case ScopedCall.Cached:
                        err = NativeMethods.paytrim_auth_client_get_cached_token_for_scopes(_handle, s, out token, out expires);
                        break;
                    default:
                        err = NativeMethods.paytrim_auth_client_refresh_token_for_scopes(_handle, s, out token, out expires);
                        break;
                }
            }
            catch (ObjectDisposedException)
            {
                throw Disposed();
            }
            PaytrimAuthException.ThrowIfError(err);
            if (call == ScopedCall.Cached && token == IntPtr.Zero)
                return null;
            return TakeToken(token, expires);
        }

        private static string[] ToArray(IEnumerable<string> scopes)
        {
            if (scopes == null) throw new ArgumentNullException("scopes");
            return new List<string>(scopes).ToArray();
        }

        // Checks each scope (the library checks the joined list again) and joins them for the
        // C entry points: space-separated, UTF-8, NUL-terminated.
        private static byte[] ScopesUtf8(string[] scopes)
        {
            if (scopes == null) throw new ArgumentNullException("scopes");
            if (scopes.Length == 0)
                throw new ArgumentException("scopes: the list is empty; name at least one scope, such as https://graph.microsoft.com/.default", "scopes");
            var joined = new StringBuilder();
            for (int i = 0; i < scopes.Length; i++)
            {
                string s = scopes[i];
                if (s == null) throw new ArgumentException("scopes: scope " + i + " is null", "scopes");
                if (s.Length == 0) throw new ArgumentException("scopes: scope " + i + " is empty", "scopes");
                foreach (char c in s)
                {
                    if (char.IsWhiteSpace(c) || char.IsControl(c))
                        throw new ArgumentException("scopes: scope " + i + " contains whitespace or a control character; pass each scope separately", "scopes");
                }
                if (i > 0) joined.Append(' ');
                joined.Append(s);
            }
            return NativeMethods.ToUtf8(joined.ToString());
        }
    }
}
