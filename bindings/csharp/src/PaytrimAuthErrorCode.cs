namespace Paytrim.Auth
{
    /// <summary>
    /// The category of a <see cref="PaytrimAuthException"/>. The numbers are the C ABI's
    /// <c>PAYTRIM_AUTH_ERROR_*</c> constants and never change (a test checks them against
    /// include/paytrim_auth.h).
    /// </summary>
    public enum PaytrimAuthErrorCode
    {
        /// <summary>Not an error code (never reported); a future library's unknown code keeps its number.</summary>
        None = 0,
        /// <summary>Invalid argument or configuration, caught before any request.</summary>
        InvalidArgument = 1,
        /// <summary>The identity provider rejected the client id or its secret (AADSTS7000215, 7000222, 700016).</summary>
        CredentialRejected = 2,
        /// <summary>The tenant does not exist or a tenant-less authority was refused (AADSTS90002, 50059, 900023).</summary>
        TenantNotFound = 3,
        /// <summary>Throttled (429, or 503 with Retry-After); see <see cref="PaytrimAuthException.RetryAfter"/>.</summary>
        Throttled = 4,
        /// <summary>Connection failed, was reset, or timed out.</summary>
        Network = 5,
        /// <summary>TLS handshake failed (untrusted certificate, wrong host name...).</summary>
        Tls = 6,
        /// <summary>The identity provider failed (HTTP 5xx).</summary>
        Server = 7,
        /// <summary>The answer could not be understood (not JSON, no token, too large...).</summary>
        Protocol = 8,
        /// <summary>The identity provider refused the request for another reason (invalid_scope, invalid_request...).</summary>
        RequestRejected = 9,
        /// <summary>A bug in paytrim-auth.</summary>
        Internal = 10,
    }
}
